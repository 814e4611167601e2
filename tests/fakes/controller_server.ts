/**
 * A fleet controller on a local port: records every request, checks its
 * signature, and answers from a script (default 200).
 */
import { signControllerRequest } from "@/lib/apply/http_controller.ts";

export interface ControllerRequest {
  path: string;
  body: Record<string, unknown>;
  idempotencyKey: string | null;
  signatureValid: boolean;
}

export type ScriptedAnswer =
  | { status: number; body?: unknown; headers?: Record<string, string> }
  | { hangMs: number };

export function startFakeController(secret: string) {
  const requests: ControllerRequest[] = [];
  const script: ScriptedAnswer[] = [];
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    async (req) => {
      const url = new URL(req.url);
      const text = await req.text();
      const ts = req.headers.get("x-kiloclaw-timestamp") ?? "";
      const expected = await signControllerRequest(
        secret,
        ts,
        req.method,
        url.pathname,
        text,
      );
      requests.push({
        path: url.pathname,
        body: JSON.parse(text),
        idempotencyKey: req.headers.get("idempotency-key"),
        signatureValid: req.headers.get("x-kiloclaw-signature") === expected,
      });
      const answer = script.shift() ?? { status: 200, body: { ok: true } };
      if ("hangMs" in answer) {
        await new Promise((r) => setTimeout(r, answer.hangMs));
        return Response.json({ ok: true });
      }
      return Response.json(answer.body ?? {}, {
        status: answer.status,
        headers: answer.headers,
      });
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    requests,
    /** Answers for the next requests, in order. */
    script(...answers: ScriptedAnswer[]) {
      script.push(...answers);
    },
    close: () => server.shutdown(),
  };
}
