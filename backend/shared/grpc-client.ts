import { type ChannelCredentials, Client as GrpcClient } from '@grpc/grpc-js';
import {
  type CallOptions,
  type Client,
  type ClientMiddlewareCall,
  type CompatServiceDefinition,
  createChannel,
  createClientFactory,
} from 'nice-grpc';
import { type DeadlineOptions, deadlineMiddleware } from 'nice-grpc-client-middleware-deadline';
import { errorDetailsClientMiddleware } from 'nice-grpc-error-details';
import { unaryCalls } from './unary.js';

/**
 * A long-lived client to another internal service: one channel made at start-up (it connects
 * lazily and reconnects by itself), a deadline on every unary call unless the caller sets one, and
 * a failure's google.rpc error details decoded (errors.ts `failure`). A handler passes its
 * request's id and trace context on in the call's options (context.ts `callOptionsWithin`). Streams run through nice-grpc's client
 * and the middleware below; unary calls (the hot path) do the same in one step (unary.ts).
 */
export function createServiceClient<S extends CompatServiceDefinition>(definition: S, address: string, deadlineMs = 2_000) {
  const channel = createChannel(address, undefined, {
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.initial_reconnect_backoff_ms': 100,
    'grpc.max_reconnect_backoff_ms': 1_000,
    // Channelz (grpc-js's call and socket introspection, on by default) keeps counters and traces
    // for every call; nothing here reads them. Off: 5–8 % more calls per second (docs/benchmarks.md).
    'grpc.enable_channelz': 0,
  });
  const client: Client<S, DeadlineOptions> = createClientFactory()
    .use(async function* defaultDeadline<Req, Res>(
      call: ClientMiddlewareCall<Req, Res, DeadlineOptions>,
      options: CallOptions & DeadlineOptions,
    ) {
      const deadline = options.deadline ?? (call.method.responseStream ? undefined : deadlineMs);
      return yield* call.next(call.request, { ...options, deadline });
    })
    .use(deadlineMiddleware)
    // A failure's error details (reason, retry delay) come back as RichClientError's `extra`.
    .use(errorDetailsClientMiddleware)
    .create(definition, channel);
  // Unary calls go straight to grpc-js on the same channel (unary.ts): same options, same errors.
  if ('methods' in definition) {
    const grpcClient = new GrpcClient('', null as unknown as ChannelCredentials, { channelOverride: channel });
    Object.assign(client, unaryCalls(definition as unknown as Parameters<typeof unaryCalls>[0], grpcClient, deadlineMs));
  }
  return { client, close: () => channel.close() };
}

export type ServiceClient<S extends CompatServiceDefinition> = Client<S, DeadlineOptions>;
