// The one list of resource types Warden implements. Adding a type is one file plus one line here.
import type { AttributeTable, ResourceTypeDefinition } from './define.js';
import type { StoredResource } from '../storage/store.js';
import { accessControlPolicyType } from './types/accessControlPolicy.js';
import { aeType } from './types/ae.js';
import { containerType } from './types/container.js';
import { contentInstanceType } from './types/contentInstance.js';
import { cseBaseType } from './types/cseBase.js';
import { dynamicAuthorizationConsultationType } from './types/dynamicAuthorizationConsultation.js';
import { roleType } from './types/role.js';
import { tokenType } from './types/token.js';
import { flexContainerType } from './types/flexContainer.js';
import { flexContainerInstanceType } from './types/flexContainerInstance.js';
import { groupType } from './types/group.js';
import { pollingChannelType } from './types/pollingChannel.js';
import { remoteCseType } from './types/remoteCse.js';
import { subscriptionType } from './types/subscription.js';
import { requestType } from './types/request.js';
import { semanticDescriptorType } from './types/semanticDescriptor.js';
import { mgmtObjType } from './types/mgmtObj.js';
import { nodeType } from './types/node.js';
import { timeSeriesType } from './types/timeSeries.js';
import { timeSeriesInstanceType } from './types/timeSeriesInstance.js';
import { crossResourceSubscriptionType } from './types/crossResourceSubscription.js';
import { scheduleType } from './types/schedule.js';
import { timeSyncBeaconType } from './types/timeSyncBeacon.js';
import { actionType } from './types/action.js';
import { dependencyType } from './types/dependency.js';
import { ANNOUNCED_TYPES } from './types/announced.js';
import { notificationTargetMgmtPolicyRefType } from './types/notificationTargetMgmtPolicyRef.js';
import { notificationTargetPolicyType } from './types/notificationTargetPolicy.js';
import { policyDeletionRulesType } from './types/policyDeletionRules.js';
import { locationPolicyType } from './types/locationPolicy.js';

const ALL_TYPES: readonly ResourceTypeDefinition[] = [accessControlPolicyType, aeType, containerType, contentInstanceType, cseBaseType, flexContainerType, flexContainerInstanceType, groupType, mgmtObjType, nodeType, pollingChannelType, remoteCseType, requestType, semanticDescriptorType, subscriptionType, timeSeriesType, timeSeriesInstanceType, crossResourceSubscriptionType, scheduleType, timeSyncBeaconType, actionType, dependencyType, dynamicAuthorizationConsultationType, notificationTargetMgmtPolicyRefType, notificationTargetPolicyType, policyDeletionRulesType, locationPolicyType, roleType, tokenType, ...ANNOUNCED_TYPES];

export class ResourceRegistry {
  private readonly byTy = new Map<number, ResourceTypeDefinition>();
  private readonly byName = new Map<string, ResourceTypeDefinition>();
  private attributeNames: Set<string> | undefined;

  constructor(types: readonly ResourceTypeDefinition[] = ALL_TYPES) {
    for (const t of types) {
      this.byTy.set(t.ty, t);
      for (const named of [t, ...(t.specializations ?? [])]) this.byName.set(named.typeName, named);
    }
  }

  get(ty: number): ResourceTypeDefinition | undefined {
    return this.byTy.get(ty);
  }

  byTypeName(name: string): ResourceTypeDefinition | undefined {
    return this.byName.get(name);
  }

  /** The definition a stored resource follows: its specialization where its type has them. */
  of(resource: { readonly ty: number; readonly doc: Readonly<Record<string, unknown>> }): ResourceTypeDefinition | undefined {
    const base = this.byTy.get(resource.ty);
    return base?.specializations?.find((s) => s.specializedBy && resource.doc[s.specializedBy.attribute] === s.specializedBy.value) ?? base;
  }

  /** Whether some resource type defines this attribute (short name). */
  knowsAttribute(name: string): boolean {
    if (!this.attributeNames) this.attributeNames = new Set([...this.byName.values()].flatMap((t) => Object.keys(t.attributes)));
    return this.attributeNames.has(name) || [...this.byTy.values()].some((t) => t.specialization?.knowsAttribute(name));
  }

  /** The name a stored resource's content goes under: its specialization's (a flexContainer's), else its type's. */
  contentName(resource: StoredResource): string {
    const definition = this.of(resource);
    return definition?.specialization?.of(resource).typeName ?? definition?.typeName ?? `m2m:ty${resource.ty}`;
  }

  /** The attribute table that holds for a stored resource (its specialization's, where it has one). */
  attributesOf(resource: StoredResource): AttributeTable {
    const definition = this.of(resource);
    return definition?.specialization?.of(resource).attributes ?? definition?.attributes ?? {};
  }

  supportedTypes(): number[] {
    return [...this.byTy.keys()].sort((a, b) => a - b);
  }
}
