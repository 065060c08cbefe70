// The gradwire tutorial's two examples from Node.js, printing the gradients PyTorch gives:
//
//   node tutorial.js [host:port]        (default: $GRADWIRE_ADDRESS or 127.0.0.1:50051)
//
// TLS and a token: GRADWIRE_CA (and GRADWIRE_CLIENT_CERT / GRADWIRE_CLIENT_KEY), GRADWIRE_TOKEN.
//
// 1. A session keeps the graph:  a = [2, 3] (requires grad); b = a + 3; c = b * b * 3; out = c.mean();
//    out.backward(retain_graph=True) -> a.grad = [15, 18]; out.backward() again accumulates
//    -> [30, 36] and frees the graph, so a third backward fails as in PyTorch.
// 2. One Compute call with in-place writes:  m = [2, 3] (requires grad); n = zeros(2);
//    n[0] = m[0] ** 2; n[1] = m[1] ** 3; n.backward([1, 1]) -> m.grad = [4, 27].
'use strict';

const {
  GradwireClient, float32Tensor, tensorValues, newSessionId, ref, real, indexAttr,
} = require('./gradwire');

const format = (values) => `[${values.join(', ')}]`;

function gradOf(response, id) {
  const named = response.grads.find((grad) => grad.id === id);
  if (!named || named.is_none) {
    throw new Error(`the response has no grad for ${id}`);
  }
  return tensorValues(named.tensor);
}

async function retainedSession(client) {
  const sessionId = newSessionId();
  await client.call('CreateSession', {
    session_id: sessionId,
    graph: {
      leaves: [{ id: 'a', value: float32Tensor([2, 3]), requires_grad: true }],
      nodes: [
        { id: 'b', op: 'add', inputs: [ref('a'), real(3)] },
        { id: 'bb', op: 'mul', inputs: [ref('b'), ref('b')] },
        { id: 'c', op: 'mul', inputs: [ref('bb'), real(3)] },
        { id: 'out', op: 'mean', inputs: [ref('c')] },
      ],
    },
  });
  try {
    const backward = (retainGraph) => client.call('Backward', {
      session_id: sessionId, roots: [{ id: 'out' }], retain_graph: retainGraph, return_grads: ['a'],
    });
    console.log(`example 1: a.grad after backward 1 = ${format(gradOf(await backward(true), 'a'))}`);
    console.log(`example 1: a.grad after backward 2 = ${format(gradOf(await backward(false), 'a'))}`);
    try {
      await backward(false);
      throw new Error('a backward through a freed graph succeeded');
    } catch (error) {
      if (!error.statusName) throw error;
      console.log(`example 1: backward 3 -> ${error.statusName} ${error.errorType}: ${error.details}`);
    }
  } finally {
    await client.call('CloseSession', { session_id: sessionId });
  }
}

async function inPlaceCompute(client) {
  const response = await client.call('Compute', {
    graph: {
      leaves: [
        { id: 'm', value: float32Tensor([2, 3]), requires_grad: true },
        { id: 'n', value: float32Tensor([0, 0]), requires_grad: false },
      ],
      nodes: [
        { id: 'm0', op: 'getitem', inputs: [ref('m')], attrs: { index: indexAttr(0) } },
        { id: 'm0_sq', op: 'pow', inputs: [ref('m0'), real(2)] },
        { id: 'set0', op: 'setitem', inputs: [ref('n'), ref('m0_sq')], attrs: { index: indexAttr(0) } },
        { id: 'm1', op: 'getitem', inputs: [ref('m')], attrs: { index: indexAttr(1) } },
        { id: 'm1_cube', op: 'pow', inputs: [ref('m1'), real(3)] },
        { id: 'set1', op: 'setitem', inputs: [ref('n'), ref('m1_cube')], attrs: { index: indexAttr(1) } },
      ],
    },
    roots: [{ id: 'n', gradient: float32Tensor([1, 1]) }],
    return_grads: ['m'],
  });
  console.log(`example 2: m.grad = ${format(gradOf(response, 'm'))}`);
}

async function main() {
  const target = process.argv[2] || process.env.GRADWIRE_ADDRESS || '127.0.0.1:50051';
  const client = new GradwireClient(target);
  try {
    await retainedSession(client);
    await inPlaceCompute(client);
  } finally {
    client.close();
  }
}

main().catch((error) => {
  console.error(`error: ${error.statusName || ''} ${error.details || error.message}`);
  process.exit(1);
});
