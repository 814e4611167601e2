/**
 * The words people read for channels and notice kinds, in one place: pages,
 * islands and the review all say "Push", never `mobile_push`. No imports
 * with side effects, so islands may use it.
 */
import type { Channel, NotificationKind } from "./types.ts";

const CHANNEL_NAMES: Record<Channel, string> = {
  email: "Email",
  webapp: "Banner",
  mobile_push: "Push",
};

/** "Email", "Push", "Banner": a channel as a heading or the start of a line. */
export function channelName(channel: Channel): string {
  return CHANNEL_NAMES[channel] ?? channel;
}

/** "email", "push", "banner": a channel inside a sentence. */
export function channelWord(channel: Channel): string {
  return channelName(channel).toLowerCase();
}

/** "email, push and banner". */
export function channelList(channels: readonly Channel[]): string {
  return listWords(channels.map(channelWord));
}

const KIND_NAMES: Record<NotificationKind, string> = {
  notice: "Notice",
  reminder: "Reminder",
  rescheduled: "Moved",
  cancelled: "Called off",
  done: "Done",
  on_hold: "On hold",
};

/** "Notice", "Reminder", "Moved", "Called off", "Done": what a notice tells. */
export function noticeKindName(kind: NotificationKind): string {
  return KIND_NAMES[kind] ?? kind;
}

/** "a, b and c". */
export function listWords(words: readonly string[]): string {
  if (words.length <= 1) return words.join("");
  return `${words.slice(0, -1).join(", ")} and ${words[words.length - 1]}`;
}
