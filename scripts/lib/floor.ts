import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './infra.js';
import { NGINX_BIN, renderNginxConfig } from './nginx.js';
import { Supervisor } from './supervisor.js';
import { tsxProcess } from './topology.js';

/**
 * The floor of `npm run bench`: what this machine does with nothing of ours in the way, each part
 * its own process as in our stack (scripts/lib/floor-server.ts), started on free loopback ports:
 *
 * - `bare`: a node:http server with a fixed small JSON body (and a second one, for Nginx);
 * - `nginx`: Nginx with our own nginx.conf (rendered by nginx/render.sh, as for the stack) in front
 *   of the two bare servers;
 * - `grpc`: a grpc-js server with one trivial unary method (called from the bench process);
 * - `skeleton`: our topology at its thinnest: Nginx (our config) → 2 × node:http → one shared
 *   grpc-js channel each → a grpc-js service → ioredis GET → its own redis-server. The ceiling of
 *   our cached get.
 */
export async function startFloor(options: { runtimeDir: string; record: { id: string; json: string }; log?: (line: string) => void }) {
  const supervisor = new Supervisor(options.log ?? (() => {}));
  const floorProcess = (name: string, env: Record<string, string>, port: number) =>
    supervisor.start({ name, ...tsxProcess('scripts/lib/floor-server.ts'), env, port });
  const nginx = async (name: string, upstreams: number[]) => {
    const port = await freePort();
    const config = renderNginxConfig({
      listenPort: port,
      bffPorts: upstreams,
      dashboardRoot: join(import.meta.dirname, '../../nginx/placeholder'),
      runtimeDir: join(options.runtimeDir, name),
    });
    await supervisor.start({ name, command: NGINX_BIN, args: config.args, port });
    return port;
  };
  try {
    const bare = [await freePort(), await freePort()];
    for (const [i, port] of bare.entries()) await floorProcess(`bare-http-${i + 1}`, { FLOOR_ROLE: 'http', PORT: String(port) }, port);
    const nginxPort = await nginx('bare-nginx', bare);

    const grpcPort = await freePort();
    await floorProcess('bare-grpc', { FLOOR_ROLE: 'grpc', PORT: String(grpcPort) }, grpcPort);

    const redisPort = await freePort();
    await supervisor.start({
      name: 'skeleton-redis',
      command: 'redis-server',
      args: ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      port: redisPort,
    });
    const redisUrl = `redis://127.0.0.1:${redisPort}/`;
    const redis = new Redis(redisUrl);
    await redis.set(`customers:${options.record.id}`, options.record.json);
    redis.disconnect();
    const servicePort = await freePort();
    await floorProcess('skeleton-service', { FLOOR_ROLE: 'grpc', PORT: String(servicePort), REDIS_URL: redisUrl }, servicePort);
    const skeletonBffs = [await freePort(), await freePort()];
    for (const [i, port] of skeletonBffs.entries())
      await floorProcess(
        `skeleton-bff-${i + 1}`,
        { FLOOR_ROLE: 'skeleton-bff', PORT: String(port), GRPC_ADDR: `127.0.0.1:${servicePort}` },
        port,
      );
    const skeletonPort = await nginx('skeleton-nginx', skeletonBffs);
    return {
      ports: { bare: bare[0]!, nginx: nginxPort, grpc: grpcPort, skeleton: skeletonPort },
      pids: () => supervisor.pids(),
      stop: () => supervisor.stopAll(),
    };
  } catch (err) {
    await supervisor.stopAll();
    throw err;
  }
}
