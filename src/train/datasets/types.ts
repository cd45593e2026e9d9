/**
 * A labelled image dataset in memory, as the trainer consumes it. Every reader (IDX, CIFAR-10
 * binary, Keras .npz, .npy, image folders, the built-in synthetic set) produces this.
 */
export interface ImageSet {
  /** Pixels as float32, sample-major, each sample in channels_last order (H, W, C). */
  x: Float32Array;
  /** Class index per sample (0 … numClasses − 1). */
  y: Uint8Array;
  count: number;
}

export interface Dataset {
  /** A short human name: "MNIST (…/mnist)", "synthetic digits". */
  name: string;
  /** One sample's shape, channels_last: [28, 28, 1]. */
  shape: [number, number, number];
  numClasses: number;
  classNames: string[];
  train: ImageSet;
  test?: ImageSet;
  /** How pixels were scaled, for the summary: "÷255". */
  normalization: string;
}

/** An error in a data file, with what was found, where, and what was expected. */
export class DataError extends Error {
  constructor(
    message: string,
    readonly file?: string,
    readonly byteOffset?: number,
  ) {
    super(message);
    this.name = 'DataError';
  }
}
