/**
 * Where a cluster's state lives in the coordination store. Every key is under
 * `/ringcache/<cluster>/`, so several clusters share one etcd without mixing.
 */
import { randomBytes } from 'node:crypto';

export function clusterKeys(cluster: string) {
  const root = `/ringcache/${cluster}/`;
  return {
    root,
    /** The cluster map document (ClusterMap JSON), written only by the controller. */
    map: `${root}map`,
    /** Cluster settings (ClusterSettings JSON): written when the cluster is created and by `ringcache cluster set`. */
    settings: `${root}settings`,
    /** One record per live member (MemberRecord JSON), under the member's lease. */
    members: `${root}members/`,
    member: (id: string) => `${root}members/${id}`,
    /** Controller candidates, under their leases: the oldest is the controller. */
    election: `${root}election/`,
    /** Operator requests to remove a node (`ringcache cluster remove`). */
    removals: `${root}removals/`,
    removal: (id: string) => `${root}removals/${id}`,
    /** A move's old owner has copied its slots and holds their writes (src/migration/): under its lease. */
    acks: `${root}acks/`,
    ack: (moveId: string) => `${root}acks/${moveId}`,
    /** CLUSTER FAILOVER FORCE|TAKEOVER requests, one per replica (the mode), under the replica's lease. */
    failovers: `${root}failovers/`,
    failover: (replicaId: string) => `${root}failovers/${replicaId}`,
    /** A move's progress (MoveProgress JSON), rewritten about once a second by its old owner, under its lease. */
    progress: `${root}progress/`,
    progressOf: (moveId: string) => `${root}progress/${moveId}`,
  };
}

/** A new member id: 40 hex digits, as Redis Cluster's node ids. */
export function newNodeId(): string {
  return randomBytes(20).toString('hex');
}

export const CLUSTER_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
