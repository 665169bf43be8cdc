// Stage 6: find the addressed resource (for CREATE, the parent) and resolve the virtual la / ol children.
import { CseError, notAllowed, notFound } from '../../primitive/errors.js';
import { OPERATION } from '../../primitive/request.js';
import { RSC } from '../../primitive/rsc.js';
import { refreshResource } from '../../operations/retrieve.js';
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
      const definition = ctx.services.registry.get(resource.ty);
      if (!definition?.virtualChildren?.includes(target.virtual)) throw notFound(`resource '${ctx.request.to}' does not exist`);
      if (ctx.request.op !== OPERATION.RETRIEVE && ctx.request.op !== OPERATION.DELETE) {
        throw notAllowed(`the virtual resource '${target.virtual}' only supports RETRIEVE and DELETE`);
      }
      if (resource.ty === RESOURCE_TYPE.container && resource.doc.disr === true) throw notAllowed('the container has disableRetrieval set');
      const container = await refreshResource(ctx, resource);
      const [instance] = await store.children(container.ri, {
        ty: RESOURCE_TYPE.contentInstance,
        limit: 1,
        newestFirst: target.virtual === 'la',
        aliveAt: clock.now(),
      });
      if (!instance) throw notFound(`container '${container.rn}' has no contentInstance`);
      ctx.virtual = target.virtual;
      resource = instance;
    }
    ctx.resource = resource;
  },
};
