import { LINK_MESSAGE_TYPES, type LinkMessage } from './link-messages.js';

/**
 * TEST HOOK, never for production: the environment variable that makes a node
 * lose chosen link messages on purpose, so the cluster tests can prove that
 * every lost message is detected and repaired (SPEC K5). There is no flag or
 * config file key for it; a node started with it logs a warning at start and
 * one per message it drops.
 *
 * Value: comma-separated `<type>:<nth>` rules, for example `open:1` (lose the
 * first `open` this node sends) or `out:5,gone:1`. Each rule fires once.
 */
export const LINK_DROP_ENV = 'CANVAS_CLUSTER_TEST_DROP_LINK_MESSAGE';

interface DropRule {
  type: LinkMessage['t'];
  nth: number;
  seen: number;
}

/** Part of an envelope's messages, and whether it is lost on purpose. */
export interface EnvelopePart {
  messages: LinkMessage[];
  lost: boolean;
}

/**
 * Loses the chosen messages as pub/sub loses them: each in an envelope of its
 * own whose sequence number is used up but which is never published, so the
 * receiver sees exactly that message missing and a gap after it.
 */
export class LinkDropHook {
  private constructor(
    private readonly rules: DropRule[],
    /** The variable's value, for the log. */
    readonly spec: string,
  ) {}

  /**
   * The hook described by {@link LINK_DROP_ENV} in `env`, or undefined when it
   * is unset or empty. Throws on a malformed value: a test that meant to drop
   * messages must not pass silently without dropping any.
   */
  static fromEnv(env: NodeJS.ProcessEnv): LinkDropHook | undefined {
    const spec = env[LINK_DROP_ENV]?.trim();
    if (!spec) return undefined;
    const rules = spec.split(',').map((part): DropRule => {
      const [type, nth] = part.trim().split(':');
      const count = Number(nth);
      if (type === undefined || !LINK_MESSAGE_TYPES.has(type) || !Number.isInteger(count) || count < 1) {
        throw new Error(`${LINK_DROP_ENV}: expected <type>:<nth> rules, got ${JSON.stringify(part)}`);
      }
      return { type: type as LinkMessage['t'], nth: count, seen: 0 };
    });
    return new LinkDropHook(rules, spec);
  }

  /**
   * Splits one envelope's messages around the messages to lose, in order; an
   * envelope without a message to lose comes back whole.
   */
  split(messages: LinkMessage[]): EnvelopePart[] {
    const parts: EnvelopePart[] = [];
    let kept: LinkMessage[] = [];
    for (const message of messages) {
      if (!this.losing(message)) {
        kept.push(message);
        continue;
      }
      if (kept.length > 0) parts.push({ messages: kept, lost: false });
      kept = [];
      parts.push({ messages: [message], lost: true });
    }
    if (kept.length > 0 || parts.length === 0) parts.push({ messages: kept, lost: false });
    return parts;
  }

  private losing(message: LinkMessage): boolean {
    let lose = false;
    for (const rule of this.rules) {
      if (rule.type !== message.t) continue;
      rule.seen++;
      if (rule.seen === rule.nth) lose = true;
    }
    return lose;
  }
}
