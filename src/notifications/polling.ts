// Long polling on a pollingChannelURI [TS-0004 §7.4.22.2.2]: the AE's RETRIEVE is held until a notification
// for it is queued, or until its request expires (4008).
import { CseError } from '../primitive/errors.js';
import { parseAbsRelTimestamp } from '../primitive/identifiers.js';
import { RSC } from '../primitive/rsc.js';
import type { RequestContext } from '../pipeline/context.js';
import type { StoredResource } from '../storage/store.js';
import { OUTBOX_TOPIC, readEnvelope } from './events.js';

export async function pollChannel(ctx: RequestContext, channel: StoredResource): Promise<Record<string, unknown>> {
  const { store, clock, config, self } = ctx.services;
  const aei = channel.pi;
  const rqet = ctx.request.rqet === undefined ? undefined : parseAbsRelTimestamp(ctx.request.rqet, ctx.receivedAt);
  const deadline = Math.min(rqet ?? Infinity, ctx.receivedAt + config.notifications.pollTimeout * 1000);
  for (;;) {
    const [message] = await store.queued(`pch:${aei}`, undefined, 1);
    if (message) {
      await store.dequeue([message.id]);
      const envelope = readEnvelope(message);
      return { 'm2m:rqp': { op: 5, to: aei, fr: `/${self.cseId}`, rqi: `pch-${message.id}`, rvi: '3', pc: envelope.pc } };
    }
    const wait = deadline - clock.now();
    if (wait <= 0) throw new CseError(RSC.REQUEST_TIMEOUT, 'no notification arrived before the request expired');
    await new Promise<void>((resolve) => {
      let settled = false;
      const done = (): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        unsubscribe();
        resolve();
      };
      const timer = setTimeout(done, Math.min(wait, 1000));
      const unsubscribe = store.subscribe(OUTBOX_TOPIC, done);
    });
  }
}
