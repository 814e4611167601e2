/**
 * What the owner is offered about postponing their instance's change: plain
 * JSON shared by the status API, the banner island and the signed postpone
 * page, so no imports that reach KV.
 */

export interface PostponeOffer {
  /** The owner may postpone now. */
  allowed: boolean;
  /** Why not, in words the owner reads ("this change is urgent: …"), or null. */
  reason: string | null;
  /** The change's time now. */
  scheduledAt: string;
  /** The latest time it may be postponed to (null: urgent). */
  until: string | null;
  /** Postpones left (0 when urgent). */
  left: number;
  /** The earliest time it may be postponed to: an hour from now, and after its time now. */
  earliest: string;
  /** The owner's next maintenance window starts in [earliest, until], soonest first. */
  windowStarts: string[];
}

/** The answer of `POST /api/instances/:id/postpone`. */
export interface PostponeAnswer {
  instanceId: string;
  scheduledAt: string;
  postponesLeft: number;
  until: string;
}
