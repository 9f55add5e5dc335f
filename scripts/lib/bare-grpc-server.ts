/**
 * A nice-grpc server with the standard health service and nothing else: no middleware, no
 * database, no Redis. `npm run bench:backend` measures a health check against it as the floor of
 * a gRPC call on this machine, beside the same check through a service's own middleware.
 * Listens on 127.0.0.1:GRPC_PORT; stops on SIGTERM.
 */
import { createServer } from 'nice-grpc';
import { HealthDefinition, HealthServiceImpl, HealthState } from 'nice-grpc-server-health';

const server = createServer();
server.add(HealthDefinition, HealthServiceImpl(HealthState()));
await server.listen(`127.0.0.1:${Number(process.env.GRPC_PORT)}`);
process.once('SIGTERM', () => {
  server.shutdown().then(() => process.exit(0));
});
