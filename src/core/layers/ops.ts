/**
 * Operations Keras records when code does arithmetic on symbolic tensors (`x * 0.5`, `1 - x`):
 * nodes of the graph without weights, shown in summaries under Keras 3's op names (`multiply`).
 */
import { bool, choice, float } from './args';
import { defineLayer } from './define';

export const ScalarOp = defineLayer({
  name: 'ScalarOp',
  category: 'core',
  doc: 'Arithmetic between a tensor and a number (`x * 0.5`), element by element; the shape does not change.',
  args: { op: choice(['+', '-', '*', '/']), scalar: float(), reversed: bool(false) },
  inputRank: 'any',
  outputShape: (input) => input,
  train: {
    forward(g, l, x) {
      const c = g.scalar(l.a.scalar);
      switch (l.a.op) {
        case '+':
          return { y: g.add(x, c) };
        case '-':
          return { y: l.a.reversed ? g.sub(c, x) : g.sub(x, c) };
        case '*':
          return { y: g.mul(x, c) };
        default:
          return { y: l.a.reversed ? g.div(c, x) : g.div(x, c) };
      }
    },
    backward(g, l, b) {
      if (!b.needDx) return { grads: {} };
      switch (l.a.op) {
        case '+':
          return { dx: b.dy, grads: {} };
        case '-':
          return { dx: l.a.reversed ? g.neg(b.dy) : b.dy, grads: {} };
        case '*':
          return { dx: g.mul(b.dy, g.scalar(l.a.scalar)), grads: {} };
        default:
          // d(x/c) = dy/c; d(c/x) = −c·dy/x² = −dy·y/x.
          return { dx: l.a.reversed ? g.neg(g.div(g.mul(b.dy, b.fwd.y), b.x)) : g.div(b.dy, g.scalar(l.a.scalar)), grads: {} };
      }
    },
  },
});

/** Element-wise functions code applies to tensors (`tf.exp(x)`, `ops.sqrt(x)`). */
const UNARY = ['exp', 'log', 'sqrt', 'square', 'abs', 'negative', 'sign', 'sin', 'cos', 'floor', 'ceil', 'round', 'rsqrt', 'reciprocal', 'stop_gradient', 'cast', 'constant_op'] as const;

export const UnaryOp = defineLayer({
  name: 'UnaryOp',
  category: 'core',
  doc: 'An element-wise function of a tensor (`tf.exp(x)`, `ops.square(x)`), or arithmetic with a constant array; the shape does not change.',
  args: { fn: choice(UNARY) },
  inputRank: 'any',
  outputShape: (input) => input,
  train: {
    refuse: (l) => (['exp', 'log', 'sqrt', 'square', 'abs', 'negative', 'stop_gradient', 'cast'].includes(l.a.fn) ? undefined : `${l.a.fn}() of a tensor is not trainable yet`),
    forward(g, l, x) {
      switch (l.a.fn) {
        case 'exp':
          return { y: g.exp(x) };
        case 'log':
          return { y: g.log(x) };
        case 'sqrt':
          return { y: g.sqrt(x) };
        case 'square':
          return { y: g.mul(x, x) };
        case 'abs':
          return { y: g.abs(x) };
        case 'negative':
          return { y: g.neg(x) };
        default:
          return { y: g.identity(x) };
      }
    },
    backward(g, l, b) {
      if (!b.needDx) return { grads: {} };
      const dy = b.dy;
      switch (l.a.fn) {
        case 'exp':
          return { dx: g.mul(dy, b.fwd.y), grads: {} };
        case 'log':
          return { dx: g.div(dy, b.x), grads: {} };
        case 'sqrt':
          return { dx: g.div(dy, g.mul(b.fwd.y, g.scalar(2))), grads: {} };
        case 'square':
          return { dx: g.mul(dy, g.mul(b.x, g.scalar(2))), grads: {} };
        case 'abs':
          return { dx: g.mul(dy, g.sign(b.x)), grads: {} };
        case 'negative':
          return { dx: g.neg(dy), grads: {} };
        case 'stop_gradient':
          return { dx: g.mul(dy, g.scalar(0)), grads: {} };
        default:
          return { dx: dy, grads: {} };
      }
    },
  },
});
