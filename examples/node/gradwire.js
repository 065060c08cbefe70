// A thin Node.js client for gradwire: loads proto/gradwire/v1/gradwire.proto at run time (no generated
// code), converts tensors to and from the wire's raw little-endian bytes, and wraps the unary calls in
// promises. Errors reject with the gRPC status plus gradwire's trailing metadata. TLS and a bearer token
// come from GRADWIRE_CA (and GRADWIRE_CLIENT_CERT / GRADWIRE_CLIENT_KEY for mTLS) and GRADWIRE_TOKEN.
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const PROTO_ROOT = path.resolve(__dirname, '..', '..', 'proto');
const PROTO_FILE = 'gradwire/v1/gradwire.proto';
const SESSION_HEADER = 'gradwire-session-id';

// Element types the example reads and writes, with their typed-array views.
const ARRAYS = {
  DTYPE_FLOAT32: Float32Array,
  DTYPE_FLOAT64: Float64Array,
  DTYPE_INT32: Int32Array,
  DTYPE_INT64: BigInt64Array,
};

function loadService() {
  const definition = protoLoader.loadSync(PROTO_FILE, {
    includeDirs: [PROTO_ROOT],
    keepCase: true,
    longs: Number,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  return grpc.loadPackageDefinition(definition).gradwire.v1.GradwireService;
}

// A float32 Tensor message from a flat array of numbers and a shape.
function float32Tensor(values, shape = [values.length]) {
  const array = Float32Array.from(values);
  return { dtype: 'DTYPE_FLOAT32', shape, data: Buffer.from(array.buffer) };
}

// The numbers of a Tensor message, as a plain array (the wire is little-endian; so is every host
// Node runs on in practice, which the typed-array views assume).
function tensorValues(tensor) {
  const ArrayType = ARRAYS[tensor.dtype];
  if (!ArrayType) {
    throw new Error(`this example does not decode ${tensor.dtype}`);
  }
  const bytes = Uint8Array.from(tensor.data); // copy: aligned for the typed view
  return Array.from(new ArrayType(bytes.buffer), Number);
}

// A fresh session id as CreateSession expects it: 32 lowercase hex digits (128 random bits).
function newSessionId() {
  return crypto.randomBytes(16).toString('hex');
}

// Adds the server's explanation to a failed call's error: the status name, the PyTorch exception type.
function describeError(error) {
  const name = Object.keys(grpc.status).find((key) => grpc.status[key] === error.code) || error.code;
  const typeValues = error.metadata ? error.metadata.get('gradwire-error-type') : [];
  error.statusName = name;
  error.errorType = typeValues.length ? String(typeValues[0]) : '';
  return error;
}

// Plaintext, or TLS when a CA file (or a client certificate) is given.
function channelCredentials({ ca, clientCert, clientKey }) {
  if (!ca && !clientCert) {
    return grpc.credentials.createInsecure();
  }
  const read = (file) => (file ? fs.readFileSync(file) : null);
  return grpc.credentials.createSsl(read(ca), read(clientKey), read(clientCert));
}

class GradwireClient {
  // options: { ca, clientCert, clientKey, token }; each defaults to its GRADWIRE_* environment variable.
  constructor(target, options = {}) {
    const env = process.env;
    const settings = {
      ca: options.ca ?? env.GRADWIRE_CA,
      clientCert: options.clientCert ?? env.GRADWIRE_CLIENT_CERT,
      clientKey: options.clientKey ?? env.GRADWIRE_CLIENT_KEY,
    };
    this.token = options.token ?? env.GRADWIRE_TOKEN;
    const Service = loadService();
    this.stub = new Service(target, channelCredentials(settings));
  }

  // Calls one unary method; a session id goes into the metadata too, so a proxy can route by it.
  call(method, request, sessionId = request.session_id) {
    const metadata = new grpc.Metadata();
    if (this.token) {
      metadata.set('authorization', `Bearer ${this.token}`);
    }
    if (sessionId) {
      metadata.set(SESSION_HEADER, sessionId);
    }
    return new Promise((resolve, reject) => {
      this.stub[method](request, metadata, (error, response) => {
        if (error) {
          reject(describeError(error));
        } else {
          resolve(response);
        }
      });
    });
  }

  close() {
    this.stub.close();
  }
}

// Graph-building shorthands for Operand and AttrValue messages.
const ref = (id) => ({ ref: id });
const real = (value) => ({ real: value });
const indexAttr = (...integers) => ({ index: { items: integers.map((integer) => ({ integer })) } });

module.exports = {
  GradwireClient,
  float32Tensor,
  tensorValues,
  newSessionId,
  ref,
  real,
  indexAttr,
};
