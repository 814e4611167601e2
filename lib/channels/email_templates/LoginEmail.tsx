/** The sign-in email: one button, the link in plain text too, how long it lasts. */
import { renderToString } from "preact-render-to-string";
import { greetingName } from "@/lib/format.ts";

interface Props {
  name: string | null;
  link: string;
  minutes: number;
}

function LoginEmail({ name, link, minutes }: Props) {
  const first = greetingName(name);
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
      </head>
      <body style="font-family:system-ui,sans-serif;color:#1b1f24;max-width:560px;margin:0 auto;padding:24px;overflow-wrap:anywhere;word-break:break-word">
        <h1 style="font-size:20px">Sign in to KiloClaw</h1>
        <p>Hi {first},</p>
        <p>
          Use the button below to sign in. The link works once and expires in
          {" "}
          {minutes} minutes.
        </p>
        <p>
          <a
            href={link}
            style="display:inline-block;background:#0b5cad;color:#fff;padding:10px 18px;border-radius:6px;text-decoration:none"
          >
            Sign in
          </a>
        </p>
        <p style="font-size:13px;color:#57606a">
          Or paste this address into your browser:<br />
          {link}
        </p>
        <p style="font-size:13px;color:#57606a">
          If you did not ask to sign in, you can ignore this email.
        </p>
      </body>
    </html>
  );
}

export function renderLoginEmail(
  props: Props,
): { subject: string; html: string; text: string } {
  const first = greetingName(props.name);
  return {
    subject: "Your KiloClaw sign-in link",
    html: "<!DOCTYPE html>" + renderToString(<LoginEmail {...props} />),
    text:
      `Hi ${first},\n\nSign in to KiloClaw with this link (it works once and expires in ${props.minutes} minutes):\n\n${props.link}\n\nIf you did not ask to sign in, you can ignore this email.\n`,
  };
}
