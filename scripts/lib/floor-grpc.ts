import * as grpc from '@grpc/grpc-js';

/**
 * The floor's gRPC call (scripts/lib/floor-server.ts, scripts/lib/floor.ts): plain @grpc/grpc-js,
 * no nice-grpc, no protobuf. One unary method whose request and response are raw bytes (identity
 * serializers): the request is a record id, the response the record's JSON.
 */
export const FLOOR_GET = '/pdash.floor.v1.Floor/Get';

const identity = (bytes: Buffer) => bytes;

/** As our services and clients have it (backend/shared): no channelz bookkeeping on every call. */
export const FLOOR_CHANNEL_OPTIONS = { 'grpc.enable_channelz': 0 };

export const FLOOR_SERVICE: grpc.ServiceDefinition = {
  get: {
    path: FLOOR_GET,
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

/** One channel (one HTTP/2 connection) to `address`; every call shares it. */
export function floorClient(address: string) {
  const client = new grpc.Client(address, grpc.credentials.createInsecure(), FLOOR_CHANNEL_OPTIONS);
  const get = (id: Buffer) =>
    new Promise<Buffer>((resolve, reject) =>
      client.makeUnaryRequest(FLOOR_GET, identity, identity, id, (err, value) => (err || !value ? reject(err) : resolve(value))),
    );
  return { get, close: () => client.close() };
}
