// A prepared graph from Node.js: the tutorial's graph is sent once (PrepareGraph), then each Compute
// sends only a new value of its input leaf `a`, as an optimisation loop would.
//
//   node prepared.js [host:port]        (default: $GRADWIRE_TARGET or 127.0.0.1:50051)
//
// For out = mean(3 * (a + 3)^2), d out / d a = 3 * (a + 3): a = [2, 3] gives [15, 18].
'use strict';

const { GradwireClient, float32Tensor, tensorValues, ref, real } = require('./gradwire');

const format = (values) => `[${values.join(', ')}]`;

async function main(target) {
  const client = new GradwireClient(target);
  try {
    const { graph_id: graphId } = await client.call('PrepareGraph', {
      graph: {
        // An input leaf: dtype and shape only, its values come with each call.
        leaves: [{ id: 'a', value: { dtype: 'DTYPE_FLOAT32', shape: [2] }, requires_grad: true }],
        nodes: [
          { id: 'b', op: 'add', inputs: [ref('a'), real(3)] },
          { id: 'bb', op: 'mul', inputs: [ref('b'), ref('b')] },
          { id: 'c', op: 'mul', inputs: [ref('bb'), real(3)] },
          { id: 'out', op: 'mean', inputs: [ref('c')] },
        ],
      },
      inputs: ['a'],
    });
    for (const a of [[2, 3], [1, -1]]) {
      const response = await client.call('Compute', {
        graph_id: graphId,
        inputs: [{ id: 'a', value: float32Tensor(a) }],
        roots: [{ id: 'out' }],
        return_grads: ['a'],
      });
      console.log(`prepared: a = ${format(a)} -> a.grad = ${format(tensorValues(response.grads[0].tensor))}`);
    }
    await client.call('ReleaseGraph', { graph_id: graphId });
    try {
      await client.call('Compute', { graph_id: graphId, inputs: [{ id: 'a', value: float32Tensor([2, 3]) }] });
    } catch (error) {
      console.log(`prepared: after ReleaseGraph -> ${error.statusName}`);
    }
  } finally {
    client.close();
  }
}

main(process.argv[2] || process.env.GRADWIRE_TARGET || '127.0.0.1:50051').catch((error) => {
  console.error(error);
  process.exit(1);
});
