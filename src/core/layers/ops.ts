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
