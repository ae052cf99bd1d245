import { createAppServer, shutdown } from './server';

const port = Number(process.env.PORT ?? '8080');
const server = createAppServer({
  version: process.env.APP_VERSION ?? 'dev',
  serviceName: process.env.SERVICE_NAME ?? 'safe-deploy-ecs',
});

server.listen(port, '0.0.0.0', () => {
  process.stdout.write(`${JSON.stringify({ level: 'INFO', message: 'listening', port })}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    process.stdout.write(`${JSON.stringify({ level: 'INFO', message: 'shutting down', signal })}\n`);
    // ECS waits stopTimeout (30 s default) before SIGKILL; finish well inside it.
    void shutdown(server, 20_000).then(() => process.exit(0));
  });
}
