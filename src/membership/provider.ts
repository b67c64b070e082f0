/**
 * The membership seam: a provider tells the node who the members are, as views
 * stamped with an epoch. The static list (the embedded default) and etcd
 * (production) both implement this one interface; routing only sees views.
 */
import type { NodeAddress } from '../cluster/topology.js';

export interface MemberView {
  /** Grows with every change; a view with an epoch not above the current one is stale. */
  epoch: number;
  members: NodeAddress[];
}

export interface MembershipProvider {
  /** Starts delivering views; the first arrives before the promise resolves. */
  start(onView: (view: MemberView) => void): Promise<void>;
  stop(): Promise<void>;
}
