import { NoticeEmail } from "./layout.tsx";
import {
  changeLabel,
  instanceWords,
  itOrThey,
  noticeText,
  type ScheduledActionEmailProps,
  whenLabel,
} from "./props.ts";

export const VERSION_CHANGE_NOTICE_SUBJECT =
  "KiloClaw: Version change scheduled";

export function VersionChangeNoticeEmail(p: ScheduledActionEmailProps) {
  return (
    <NoticeEmail
      title="Version change scheduled"
      notice={p}
      after={p.targetImageTag && (
        <p style={{ fontSize: "12px", color: "#57534e" }}>
          New image tag: {p.targetImageTag}
        </p>
      )}
    >
      Your {instanceWords(p)} <strong>{p.instanceName}</strong> will change{" "}
      <strong>{changeLabel(p)}</strong> on <strong>{p.when}</strong>
      {p.whenUtc ? ` (${p.whenUtc})` : null}.{" "}
      {itOrThey(p, "restarts", "restart")}{" "}
      as part of the change, so your chat may be unavailable for a few minutes.
    </NoticeEmail>
  );
}

export function versionChangeNoticeText(p: ScheduledActionEmailProps): string {
  return noticeText(
    p,
    `Your ${instanceWords(p)} ${p.instanceName} will change ${
      changeLabel(p)
    } on ${whenLabel(p)}. ${
      itOrThey(p, "restarts", "restart")
    } as part of the change, so your chat may be unavailable for a few minutes.`,
    p.targetImageTag ? ["", `New image tag: ${p.targetImageTag}`] : [],
  );
}
