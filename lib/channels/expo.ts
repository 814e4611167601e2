/**
 * Push through Expo with `expo-server-sdk`. The SDK fixes its host from
 * EXPO_BASE_URL when first imported, so it is imported lazily, and requests
 * are pointed at the configured base URL by an undici dispatcher: each
 * transport talks to its own host whatever the process environment says.
 */
import type {
  PushMessage,
  PushReceipt,
  PushTicket,
  PushTransport,
} from "./types.ts";

type ExpoSdk = typeof import("expo-server-sdk");
type ExpoClient = InstanceType<ExpoSdk["Expo"]>;

/** Tickets for a chunk whose request failed: the dispatcher retries these. */
export const REQUEST_FAILED = "RequestFailed";

export class ExpoPushTransport implements PushTransport {
  readonly name = "expo";
  private client: Promise<ExpoClient> | null = null;

  constructor(
    private readonly opts: {
      accessToken: string | null;
      baseUrl: string | null;
      /** The SDK's own wait before retrying a 429 (it tries twice more). */
      retryMinTimeoutMs?: number;
    },
  ) {}

  private expo(): Promise<ExpoClient> {
    this.client ??= (async () => {
      const { Expo } = await import("expo-server-sdk");
      let httpAgent;
      if (this.opts.baseUrl) {
        const { Agent } = await import("undici");
        const origin = new URL(this.opts.baseUrl).origin;
        httpAgent = new Agent().compose((dispatch) => (o, handler) =>
          dispatch({ ...o, origin }, handler)
        );
      }
      return new Expo({
        accessToken: this.opts.accessToken ?? undefined,
        // deno-lint-ignore no-explicit-any
        httpAgent: httpAgent as any,
        retryMinTimeout: this.opts.retryMinTimeoutMs,
      });
    })();
    return this.client;
  }

  /**
   * Chunks of 100, one request each. A chunk whose request fails gets error
   * tickets of its own instead of failing the others, which were delivered.
   */
  async send(messages: PushMessage[]): Promise<PushTicket[]> {
    const expo = await this.expo();
    const chunks = expo.chunkPushNotifications(messages);
    const results = await Promise.all(chunks.map(async (chunk) => {
      try {
        return (await expo.sendPushNotificationsAsync(chunk)) as PushTicket[];
      } catch (err) {
        const message = `Expo request failed: ${
          err instanceof Error ? err.message : String(err)
        }`;
        return chunk.map((): PushTicket => ({
          status: "error",
          message,
          details: { error: REQUEST_FAILED },
        }));
      }
    }));
    return results.flat();
  }

  async getReceipts(ticketIds: string[]): Promise<Record<string, PushReceipt>> {
    const expo = await this.expo();
    const out: Record<string, PushReceipt> = {};
    for (const chunk of expo.chunkPushNotificationReceiptIds(ticketIds)) {
      Object.assign(
        out,
        await expo.getPushNotificationReceiptsAsync(chunk) as Record<
          string,
          PushReceipt
        >,
      );
    }
    return out;
  }
}

/** Expo push tokens, as the service issues them. */
export const EXPO_PUSH_TOKEN =
  /^(ExponentPushToken|ExpoPushToken)\[[A-Za-z0-9_-]{10,200}\]$/;
