import type { CseServices } from '../pipeline/context.js';
import type { EventContext } from '../notifications/events.js';

/** What recording a notification event needs from the running CSE. */
export function eventContext(services: CseServices, now: number): EventContext {
  return { self: services.self, registry: services.registry, now, maxEventBytes: services.config.notifications.maxEventBytes };
}
