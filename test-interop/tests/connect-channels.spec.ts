/**
 * connect({ channels }) with the gateway offering: the offer-request carries every option, the
 * gateway opens the channels with them (negotiated ones included) and the browser reads them back.
 */
import type { SessionInfo } from 'rtcgate-peer-node';
import { expect, openHarnessPage, test } from '../fixtures/dc.js';

test('the gateway offering opens the requested channels with their options, negotiated ones on both sides', async ({
  page,
  stack,
  harness: harnessGateway,
}) => {
  await openHarnessPage(page, stack.serverUrl);
  const requested = [
    { label: 'control' },
    { label: 'req-unordered', ordered: false, maxRetransmits: 2, protocol: 'x' },
    { label: 'req-negotiated', negotiated: true, id: 40, maxPacketLifeTime: 50 },
  ];
  const seen = await page.evaluate(
    async ({ room, requested }) => {
      const conn = await rtcgate.GatewayConnection.connect({ room, offerer: 'gateway', channels: requested });
      globalThis.conns = { main: conn };
      globalThis.ctls = { main: harness.controller(await conn.channel('control')) };
      return [...conn.channels.values()].map((c) => ({
        label: c.label,
        id: c.id,
        ordered: c.ordered,
        maxRetransmits: c.maxRetransmits,
        maxPacketLifeTime: c.maxPacketLifeTime,
        protocol: c.protocol,
        negotiated: c.negotiated,
        state: c.readyState,
      }));
    },
    { room: harnessGateway.room, requested },
  );
  expect(seen.find((c) => c.label === 'req-unordered')).toMatchObject({
    ordered: false,
    maxRetransmits: 2,
    protocol: 'x',
    negotiated: false,
    state: 'open',
  });
  expect(seen.find((c) => c.label === 'req-negotiated')).toMatchObject({
    id: 40,
    negotiated: true,
    maxPacketLifeTime: 50,
    state: 'open',
  });
  // The gateway's own view of the same channels.
  const view = (await page.evaluate(() => globalThis.ctls!.main!('view'))) as SessionInfo;
  expect(view.channels.find((c) => c.label === 'req-unordered')).toMatchObject({
    ordered: false,
    maxRetransmits: 2,
    protocol: 'x',
    opener: 'gateway',
  });
  expect(view.channels.find((c) => c.label === 'req-negotiated')).toMatchObject({
    id: 40,
    negotiated: true,
    maxPacketLifeTime: 50,
    state: 'open',
  });
  const reply = await page.evaluate(async () => {
    const ch = globalThis.conns!.main!.channels.get('req-negotiated')!;
    return (await rtcgate.echo(ch, 'negotiated echo')).reply;
  });
  expect(reply).toBe('negotiated echo');
});
