/**
 * A small Expo push API on a local port, for the real `expo-server-sdk`
 * pointed at it (EXPO_BASE_URL). Tokens can be marked unregistered at send
 * time or only in the receipts; requests can fail on demand (429, 5xx).
 */

export interface PushSent {
  to: string;
  title?: string;
  body?: string;
  data?: Record<string, unknown>;
  sound?: string;
  priority?: string;
  ticketId: string | null;
}

export interface CannedFailure {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface ExpoFake {
  url: string;
  /** Every message accepted or refused, in order. */
  messages: PushSent[];
  /** Calls per endpoint path. */
  calls: { path: string; authorization: string | null }[];
  /** Tokens refused at send time with DeviceNotRegistered. */
  unregistered: Set<string>;
  /** Tokens accepted at send time whose receipt says DeviceNotRegistered. */
  unregisteredInReceipts: Set<string>;
  /** Ticket ids whose receipts are not ready yet. */
  receiptsNotReady: Set<string>;
  failNext(...failures: CannedFailure[]): void;
  close(): Promise<void>;
}

async function readBody(req: Request): Promise<unknown> {
  // The SDK gzips bodies over 1 kB.
  const stream = req.headers.get("content-encoding") === "gzip"
    ? req.body!.pipeThrough(new DecompressionStream("gzip"))
    : req.body!;
  return JSON.parse(await new Response(stream).text());
}

export function startExpoFake(): Promise<ExpoFake> {
  const messages: PushSent[] = [];
  const calls: ExpoFake["calls"] = [];
  const unregistered = new Set<string>();
  const unregisteredInReceipts = new Set<string>();
  const receiptsNotReady = new Set<string>();
  const failures: CannedFailure[] = [];
  const tokenOfTicket = new Map<string, string>();

  const handler = async (req: Request): Promise<Response> => {
    const path = new URL(req.url).pathname;
    calls.push({
      path,
      authorization: req.headers.get("authorization"),
    });
    const body = await readBody(req);
    const canned = failures.shift();
    if (canned) {
      return Response.json(
        canned.body ??
          { errors: [{ code: "CANNED", message: `canned ${canned.status}` }] },
        { status: canned.status, headers: canned.headers },
      );
    }
    if (path === "/--/api/v2/push/send") {
      const list = (Array.isArray(body) ? body : [body]) as PushSent[];
      const data = list.map((m) => {
        if (unregistered.has(m.to)) {
          messages.push({ ...m, ticketId: null });
          return {
            status: "error",
            message:
              `"${m.to}" is not a registered push notification recipient`,
            details: { error: "DeviceNotRegistered", expoPushToken: m.to },
          };
        }
        const id = crypto.randomUUID();
        tokenOfTicket.set(id, m.to);
        messages.push({ ...m, ticketId: id });
        return { status: "ok", id };
      });
      return Response.json({ data });
    }
    if (path === "/--/api/v2/push/getReceipts") {
      const ids = (body as { ids: string[] }).ids;
      const data: Record<string, unknown> = {};
      for (const id of ids) {
        const token = tokenOfTicket.get(id);
        if (!token || receiptsNotReady.has(id)) continue;
        data[id] = unregisteredInReceipts.has(token)
          ? {
            status: "error",
            message:
              `"${token}" is not a registered push notification recipient`,
            details: { error: "DeviceNotRegistered" },
          }
          : { status: "ok" };
      }
      return Response.json({ data });
    }
    return Response.json({ errors: [{ code: "NOT_FOUND", message: path }] }, {
      status: 404,
    });
  };

  return new Promise((resolve) => {
    const server = Deno.serve({
      port: 0,
      hostname: "127.0.0.1",
      onListen: ({ port }) =>
        resolve({
          url: `http://127.0.0.1:${port}`,
          messages,
          calls,
          unregistered,
          unregisteredInReceipts,
          receiptsNotReady,
          failNext: (...f) => failures.push(...f),
          close: () => server.shutdown(),
        }),
    }, handler);
  });
}
