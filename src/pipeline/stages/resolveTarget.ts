// Stage 6: find the addressed resource (for CREATE, the parent); la / ol address their container here.
import { CseError, notAllowed, notFound } from '../../primitive/errors.js';
import { OPERATION } from '../../primitive/request.js';
import { RSC } from '../../primitive/rsc.js';
import { RESOURCE_TYPE } from '../../resources/types.js';
import type { StoredResource } from '../../storage/store.js';
import type { Stage } from '../pipeline.js';

export const resolveTarget: Stage = {
  name: 'resolveTarget',
  async run(ctx) {
    const target = ctx.target;
    if (target?.kind !== 'local') throw new CseError(RSC.INTERNAL_SERVER_ERROR, 'target was not routed');
    const { store, clock } = ctx.services;
    let resource: StoredResource | undefined;
    if (target.structured) resource = await store.getByPath(target.segments.join('/'));
    else if (target.segments.length === 1) resource = await store.get(target.segments[0] as string);
    if (!resource || (resource.et !== undefined && resource.et <= clock.now())) {
      throw notFound(`resource '${ctx.request.to}' does not exist`);
    }
    if (target.virtual) {
      // la / ol are resolved to an instance only after authorization, on the container (execute stage).
      const definition = ctx.services.registry.get(resource.ty);
      if (!definition?.virtualChildren?.includes(target.virtual)) throw notFound(`resource '${ctx.request.to}' does not exist`);
      // la / ol: RETRIEVE and DELETE; pcu: RETRIEVE (long poll) and NOTIFY (responses) [TS-0004 §7.4.22];
      // ntsr: "Only Delete operations shall be allowed" [TS-0001 §10.2.10.9].
      const allowed: readonly number[] =
        target.virtual === 'fopt'
          ? Object.values(OPERATION)
          : target.virtual === 'pcu'
            ? [OPERATION.RETRIEVE, OPERATION.NOTIFY]
            : target.virtual === 'ntsr'
              ? [OPERATION.DELETE]
              : [OPERATION.RETRIEVE, OPERATION.DELETE];
      if (!allowed.includes(ctx.request.op)) {
        throw notAllowed(`the virtual resource '${target.virtual}' does not support this operation`);
      }
      ctx.virtual = target.virtual;
      if (target.suffix) ctx.fanOutSuffix = target.suffix;
    } else if (resource.ty === RESOURCE_TYPE.contentInstance && ctx.request.op !== OPERATION.CREATE) {
      // disableRetrieval on the container forbids reading and deleting its instances [TS-0001 §9.6.6].
      const container = await store.get(resource.pi);
      if (container?.doc.disr === true) throw notAllowed('the container has disableRetrieval set');
    }
    ctx.resource = resource;
  },
};
