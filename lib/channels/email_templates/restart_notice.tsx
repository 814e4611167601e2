import { NoticeEmail } from "./layout.tsx";
import {
  instanceWords,
  noticeText,
  type ScheduledActionEmailProps,
  whenLabel,
} from "./props.ts";

export const RESTART_NOTICE_SUBJECT = "KiloClaw: Restart scheduled";

export function RestartNoticeEmail(p: ScheduledActionEmailProps) {
  return (
    <NoticeEmail title="Restart scheduled" notice={p}>
      Your {instanceWords(p)} <strong>{p.instanceName}</strong> will restart on
      {" "}
      <strong>{p.when}</strong>
      {p.whenUtc ? ` (${p.whenUtc})` : null}. Your chat may be unavailable for a
      few minutes while {(p.botCount ?? 1) > 1 ? "they come" : "it comes"}{" "}
      back up.
    </NoticeEmail>
  );
}

export function restartNoticeText(p: ScheduledActionEmailProps): string {
  return noticeText(
    p,
    `Your ${instanceWords(p)} ${p.instanceName} will restart on ${
      whenLabel(p)
    }. Your chat may be unavailable for a few minutes while ${
      (p.botCount ?? 1) > 1 ? "they come" : "it comes"
    } back up.`,
  );
}
