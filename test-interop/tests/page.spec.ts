/** (d) the page itself, driven as a person would: press Connect, type, see the echo. */
import { expect, test } from '../fixtures/test.js';

for (const transport of ['ws', 'socket.io'] as const) {
  test(`the page over ${transport}: Connect shows ICE, DTLS, pair and RTT, and a typed message is echoed`, async ({
    page,
    stack,
  }, testInfo) => {
    await page.goto(`${stack.serverUrl}/`);
    await page.getByTestId('room').fill(stack.room);
    await page.getByTestId('transport').selectOption(transport);
    await page.getByTestId('connect').click();
    await expect(page.getByTestId('connection-state')).toHaveText('connected');
    await expect(page.getByTestId('signaling')).toContainText(
      `connected over ${transport}; joined room ${stack.room}`,
    );
    await expect(page.getByTestId('ice-connection')).toHaveText(/connected|completed/);
    await expect(page.getByTestId('ice-gathering')).toHaveText('complete');
    await expect(page.getByTestId('dtls')).toHaveText(/^connected, DTLS 1\.[23], cipher TLS_[A-Z0-9_]+/);
    await expect(page.getByTestId('selected-pair')).toHaveText(
      /local (host|prflx|srflx|relay) .*⇄ remote (host|prflx|srflx|relay) /,
    );
    await expect(page.getByTestId('sctp')).toHaveText(/SCTP connected.*channel "echo" open/);
    await expect(page.getByTestId('rtt')).toHaveText(/echo \d+(\.\d+)? ms/);

    await page.getByTestId('message').fill('hello from a person ✓');
    await page.getByTestId('send').click();
    await expect(page.getByTestId('echoes')).toContainText('echo: hello from a person ✓');

    // The log keeps its latest lines only: 10 more messages than it keeps leave exactly as many.
    const echoes = page.getByTestId('echoes');
    const kept = Number(await echoes.getAttribute('data-lines-kept'));
    expect(kept).toBeGreaterThan(0);
    await page.evaluate((count) => {
      const input = document.querySelector<HTMLInputElement>('[data-testid=message]')!;
      for (let i = 1; i <= count; i++) {
        input.value = `message ${i}`;
        input.form!.requestSubmit();
      }
    }, kept + 10);
    await expect(echoes.locator('li').last()).toHaveText(new RegExp(`^echo: message ${kept + 10} `));
    await expect(echoes.locator('li')).toHaveCount(kept);
    // Exactly the latest ones, in order, each with its own reply.
    const lines = await echoes.locator('li').allTextContents();
    expect(lines.map((l) => l.replace(/ \([\d.]+ ms\)$/, ''))).toEqual(
      Array.from({ length: kept }, (_, i) => `echo: message ${i + 11}`),
    );

    // Echoes still queued at a Disconnect neither hold up nor write into the next connection.
    await page.evaluate(async () => {
      const input = document.querySelector<HTMLInputElement>('[data-testid=message]')!;
      for (let i = 1; i <= 20; i++) {
        input.value = `before disconnect ${i}`;
        input.form!.requestSubmit();
        // The first one is sent before the rest are queued: an echo is on its way at Disconnect.
        if (i === 1) await new Promise((r) => setTimeout(r, 0));
      }
      document.querySelector<HTMLButtonElement>('[data-testid=disconnect]')!.click();
    });
    await expect(page.getByTestId('connection-state')).toHaveText('closed');
    await page.getByTestId('connect').click();
    await expect(page.getByTestId('connection-state')).toHaveText('connected');
    await page.getByTestId('message').fill('after reconnecting');
    await page.getByTestId('send').click();
    await expect(echoes).toContainText('echo: after reconnecting', { timeout: 3000 });
    await expect(echoes).not.toContainText('before disconnect');
    await expect(echoes).not.toContainText('error:');

    await testInfo.attach(`page-${testInfo.project.name}-${transport}.png`, {
      body: await page.screenshot({ fullPage: true }),
      contentType: 'image/png',
    });
    await page.getByTestId('disconnect').click();
    await expect(page.getByTestId('connection-state')).toHaveText('closed');
  });
}
