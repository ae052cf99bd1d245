import { CLIENT_SETTINGS, clientsPerRegion, createClients } from '../../lib/runtime/clients';

describe('createClients', () => {
  test('every client is bounded: 3 SDK attempts, 3 s to connect, 10 s per request (a silent endpoint fails in ~30 s)', async () => {
    const clients = createClients('eu-west-1');
    for (const client of Object.values(clients)) {
      expect(await client.config.region()).toBe('eu-west-1');
      expect(await client.config.maxAttempts()).toBe(3);
    }
    expect(CLIENT_SETTINGS.requestHandler).toEqual({ connectionTimeout: 3_000, requestTimeout: 10_000, throwOnRequestTimeout: true });
    const handler = clients.codepipeline.config.requestHandler as unknown as { configProvider: Promise<Record<string, unknown>> };
    await expect(handler.configProvider).resolves.toMatchObject({
      connectionTimeout: 3_000,
      requestTimeout: 10_000,
      throwOnRequestTimeout: true,
    });
  });

  test('clientsPerRegion creates each region once and reuses the home clients', () => {
    const home = createClients('us-east-1');
    const factory = jest.fn(createClients);
    const forRegion = clientsPerRegion(home, 'us-east-1', factory);
    expect(forRegion('us-east-1')).toBe(home);
    expect(forRegion('eu-west-1')).toBe(forRegion('eu-west-1'));
    expect(factory).toHaveBeenCalledTimes(1);
  });
});
