import type { ComponentChildren } from "preact";
import type { ScheduledActionEmailProps } from "./props.ts";

const body = {
  margin: "0",
  padding: "24px",
  backgroundColor: "#f5f5f4",
  fontFamily: "Helvetica, Arial, sans-serif",
  color: "#1c1917",
};
const card = {
  maxWidth: "560px",
  margin: "0 auto",
  padding: "24px",
  backgroundColor: "#ffffff",
  borderRadius: "8px",
  lineHeight: "1.5",
  // Long links and unbroken names wrap instead of widening a phone's screen.
  overflowWrap: "anywhere",
  wordBreak: "break-word",
};
const button = {
  display: "inline-block",
  padding: "10px 16px",
  backgroundColor: "#1c1917",
  color: "#ffffff",
  borderRadius: "6px",
  textDecoration: "none",
};

/** The frame every KiloClaw email shares: heading, content, the workspace link. */
export function EmailLayout(
  props: {
    title: string;
    workspaceUrl: string;
    /** A signed link to the maintenance's calendar event (.ics). */
    calendarUrl?: string | null;
    /** A signed link to the page where the owner picks a later time. */
    postponeUrl?: string | null;
    /** The owner's notification settings. */
    settingsUrl?: string;
    /** A warning's one-click link that turns this channel's warnings off. */
    unsubscribeUrl?: string | null;
    children: ComponentChildren;
  },
) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{props.title}</title>
      </head>
      <body style={body}>
        <div style={card}>
          <h1 style={{ fontSize: "20px", margin: "0 0 16px" }}>
            {props.title}
          </h1>
          {props.children}
          <p style={{ margin: "24px 0 8px" }}>
            <a href={props.workspaceUrl} style={button}>
              Open your workspace
            </a>
          </p>
          {props.calendarUrl && (
            <p style={{ margin: "8px 0" }}>
              <a href={props.calendarUrl}>Add to calendar</a>
            </p>
          )}
          {props.postponeUrl && (
            <p style={{ margin: "8px 0" }}>
              <a href={props.postponeUrl}>Change the time</a>{" "}
              <span style={{ color: "#57534e" }}>
                (sign in to pick a later time)
              </span>
            </p>
          )}
          <p style={{ fontSize: "12px", color: "#78716c" }}>
            Or paste this link into your browser: {props.workspaceUrl}
          </p>
          {props.settingsUrl && (
            <p style={{ fontSize: "12px", color: "#78716c" }}>
              Choose when and how you hear from us:{" "}
              <a href={props.settingsUrl} style={{ color: "#57534e" }}>
                notification settings
              </a>
              {props.unsubscribeUrl && (
                <>
                  {" "}·{" "}
                  <a href={props.unsubscribeUrl} style={{ color: "#57534e" }}>
                    stop these emails
                  </a>
                </>
              )}
            </p>
          )}
        </div>
      </body>
    </html>
  );
}

/**
 * The admin's message as text: Preact escapes it, so markup arrives inert,
 * and each line break becomes a `<br>`.
 */
export function AdminMessage(props: { text: string | null }) {
  if (!props.text?.trim()) return null;
  const lines = props.text.replace(/\r\n?/g, "\n").split("\n");
  return (
    <p
      style={{
        padding: "12px",
        backgroundColor: "#f5f5f4",
        borderLeft: "3px solid #a8a29e",
      }}
    >
      {lines.flatMap((line, i) => i === 0 ? [line] : [<br key={i} />, line])}
    </p>
  );
}

/**
 * A scheduled action's notice: the reminder line when it is one, the
 * greeting, what will happen (`children`), the admin's message, then
 * anything the notice adds (`after`).
 */
export function NoticeEmail(
  props: {
    title: string;
    notice: ScheduledActionEmailProps;
    children: ComponentChildren;
    after?: ComponentChildren;
  },
) {
  const p = props.notice;
  return (
    <EmailLayout
      title={props.title}
      workspaceUrl={p.workspaceUrl}
      settingsUrl={p.settingsUrl}
      unsubscribeUrl={p.unsubscribeUrl}
      calendarUrl={p.calendarUrl}
      postponeUrl={p.postponeUrl}
    >
      {p.reminderLabel && (
        <p>
          <strong>{p.reminderLabel}</strong>
        </p>
      )}
      <p>Hi {p.greetingName},</p>
      <p>{props.children}</p>
      <AdminMessage text={p.adminMessage} />
      {props.after}
    </EmailLayout>
  );
}
