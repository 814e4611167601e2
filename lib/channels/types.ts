/**
 * The seam between the notice sweep and the delivery channels.
 */
import type {
  Channel,
  DispatchOutcome,
  Instance,
  Notification,
  ScheduledAction,
  Stage,
  Target,
  User,
} from "../types.ts";
import type { ScheduledActionPush } from "./push_payload.ts";
import type { RateLimitInfo } from "./rate_budget.ts";

/** A plain email, whichever transport carries it (outbox, Resend, internal route). */
export interface EmailMessage {
  to: string;
  subject: string;
  html: string;
  text: string;
  /** Mail headers sent as they are (List-Unsubscribe), kept and shown by the outbox. */
  headers?: Record<string, string>;
  /** Free-form labels kept with the message (outbox) or sent as provider tags. */
  tags?: Record<string, string>;
  /**
   * Every notice row the message tells of (an owner's bundle tells of
   * several): the outbox leads from each to it. Never sent to a provider.
   */
  notificationIds?: string[];
}

export type SendFailure = {
  ok: false;
  /** true: try again later (timeout, 429, 5xx, network). false: give up now. */
  transient: boolean;
  error: string;
  /** How long the upstream asked us to wait (Retry-After, ratelimit-reset). */
  retryAfterMs?: number;
  /**
   * The request may have been carried out even though no answer came back
   * (a timeout, a dropped connection, a 5xx): the message may have arrived.
   */
  uncertain?: boolean;
  /** The provider holds an earlier request under this idempotency key, with another payload. */
  keyInUse?: boolean;
  /** What the answer's rate-limit headers said. */
  rateLimit?: RateLimitInfo;
  /** The provider's HTTP status, when it answered (429: too many requests). */
  status?: number | null;
};
export type SendResult =
  | {
    ok: true;
    id: string | null;
    /**
     * One provider id per message of a batch, in order, when the provider
     * says; null for a message it refused (see `refused`).
     */
    ids?: (string | null)[];
    /** Messages of a batch the provider refused while sending the others. */
    refused?: { index: number; error: string }[];
    /** What the answer's rate-limit headers said. */
    rateLimit?: RateLimitInfo;
  }
  | SendFailure;

export interface SendOptions {
  idempotencyKey?: string;
  signal?: AbortSignal;
  /**
   * Real-clock time (epoch ms) after which the call must not start: a notice
   * is never sent once its action time has come, however long the call
   * waited for the provider's rate.
   */
  notAfter?: number;
}

/**
 * Sends email. `idempotencyKey` makes a repeat of the same call a no-op at the
 * provider (Resend keeps keys for 24 hours).
 */
export interface EmailSender {
  readonly name: string;
  send(
    message: EmailMessage,
    opts?: SendOptions,
  ): Promise<SendResult>;
  /**
   * Up to 100 messages in one call; one result for the whole batch, except
   * messages the provider refused on their own, listed in `refused`.
   */
  sendBatch(
    messages: EmailMessage[],
    opts?: SendOptions,
  ): Promise<SendResult>;
}

/** Everything a channel needs to render and deliver one notification row. */
export interface NoticeItem {
  notification: Notification;
  user: User;
  /** null when the instance record is gone; templates fall back to the id. */
  instance: Instance | null;
  action: ScheduledAction;
  stage: Stage;
  target: Target;
  /** OpenClaw version of the target tag (version changes), when the catalog knows it. */
  targetOpenclawVersion: string | null;
  /** The token of the target's "Add to calendar" link (lib/calendar.ts), when known. */
  calendarToken?: string;
  /** A warning's one-click unsubscribe token for its owner and channel (lib/owners/unsubscribe.ts). */
  unsubscribeToken?: string;
  /** A warning's signed "Change the time" token when its action may be postponed (lib/owners/postpone_link.ts). */
  postponeToken?: string;
  /** OpenClaw version the instance runs before a version change, when the catalog knows it. */
  sourceOpenclawVersion?: string | null;
}

export type { DispatchOutcome };

export interface DispatchOptions {
  /** The dispatch group's id: for email, the provider's idempotency key. */
  groupId: string;
  /** The claim holding the rows (the internal route sends only a row its caller holds). */
  claimId: string;
  /**
   * How long until the earliest action time among the group's notices (the
   * sweep's clock); a send must start before then. Absent: no deadline.
   */
  timeLeftMs?: number;
  /**
   * The group was sealed for sending before. Its members only ever shrink, so
   * a provider that holds an earlier request under this key with another
   * payload has delivered every member of this one then.
   */
  resend: boolean;
  signal: AbortSignal;
}

/**
 * Delivers a group of claimed rows of one channel. Returns one outcome per
 * item, in order. Must not throw for a single bad item; a throw fails the
 * whole group as transient.
 */
export interface ChannelDispatcher {
  readonly channel: Channel;
  /** Largest group the sweep should hand over at once (email batch: 100). */
  readonly maxGroupSize: number;
  /**
   * A channel whose delivery is the row itself (the workspace banner reads
   * it): nothing leaves the process, so its rows go from pending to sent in
   * the claim's own commit, with this detail, and `dispatch` is not called.
   */
  readonly deliveredByClaim?: { detail: string };
  dispatch(
    items: NoticeItem[],
    opts: DispatchOptions,
  ): Promise<DispatchOutcome[]>;
}

export type Dispatchers = Record<Channel, ChannelDispatcher>;

/** One Expo push message, shaped as in DESIGN ("Push payload"). */
export type PushMessage = ScheduledActionPush;

/** Expo's answer per message: a ticket id to read the receipt with later, or why it was refused. */
export type PushTicket =
  | { status: "ok"; id: string }
  | { status: "error"; message: string; details?: { error?: string } };

export type PushReceipt =
  | { status: "ok" }
  | { status: "error"; message: string; details?: { error?: string } };

/**
 * Carries push messages (Expo, or the outbox). `send` answers one ticket per
 * message, in order, and throws when the request itself failed.
 */
export interface PushTransport {
  readonly name: string;
  /**
   * `about[i]` names the instances message i tells of (several for a push
   * merged from an owner's rows); the payload itself names one.
   */
  send(messages: PushMessage[], about?: string[][]): Promise<PushTicket[]>;
  /** Receipts by ticket id; a transport without receipts (the outbox) leaves it out. */
  getReceipts?(ticketIds: string[]): Promise<Record<string, PushReceipt>>;
}
