/** The part of jpeg-js@0.4 that the image-folder reader uses (the package ships no types). */
declare module 'jpeg-js' {
  export interface DecodeOptions {
    /** Return a Uint8Array rather than a Buffer (default false). */
    useTArray?: boolean;
    /** RGBA (true, the default) or RGB output. */
    formatAsRGBA?: boolean;
    colorTransform?: boolean;
    tolerantDecoding?: boolean;
    /** Refuse images larger than this many megapixels (default 100). */
    maxResolutionInMP?: number;
    /** Refuse to allocate more than this many MB (default 512). */
    maxMemoryUsageInMB?: number;
  }

  export interface DecodedJpeg {
    width: number;
    height: number;
    data: Uint8Array;
    exifBuffer?: Uint8Array;
    comments?: string[];
  }

  export function decode(jpegData: ArrayLike<number> | ArrayBufferLike, options?: DecodeOptions): DecodedJpeg;

  export interface RawImageData {
    width: number;
    height: number;
    data: Uint8Array;
  }

  export function encode(imgData: RawImageData, quality?: number): { data: Buffer; width: number; height: number };
}
