// Server side of islands: spots island components while a page renders, wraps each
// in comment markers (`<!--frsh:island:N-->…<!--/frsh:island:N-->`) and records its
// encoded props for the page's JSON data block. client.ts hydrates between markers.
import {
  type ComponentChildren,
  type ComponentType,
  createContext,
  Fragment,
  h,
  options,
  type VNode,
} from "preact";
import { useContext } from "preact/hooks";
import { PropsEncoder, SerializeError } from "./serialize.ts";
import type { Manifest } from "./types.ts";

export interface IslandRef {
  /** The manifest key, e.g. `./islands/Counter.tsx`. */
  file: string;
  exportName: string;
}

export interface IslandRecord extends IslandRef {
  props: unknown;
  /** The island got `children`: they are server-rendered inside slot markers. */
  hasChildren: boolean;
}

/** One page render's islands, in render order (the N of the markers). */
export class IslandCollector {
  readonly islands: IslandRecord[] = [];
  #encoder = new PropsEncoder();

  add(
    ref: IslandRef,
    props: Record<string, unknown>,
    hasChildren: boolean,
  ): number {
    let encoded: unknown;
    try {
      encoded = this.#encoder.encode(props);
    } catch (error) {
      if (!(error instanceof SerializeError)) throw error;
      throw new SerializeError(
        `Island ${ref.file} (export ${ref.exportName}): ${error.message}`,
      );
    }
    return this.islands.push({ ...ref, props: encoded, hasChildren }) - 1;
  }
}

interface IslandScope {
  collector: IslandCollector;
  /** Inside an island: nested islands render as plain components of the outer one. */
  inside: boolean;
}
export const IslandContext = createContext<IslandScope | null>(null);

// Island components are recognised by identity; every manifest registers its own.
const registry = new Map<unknown, IslandRef>();
const wrappers = new Map<unknown, ComponentType>();
let bypass = false;

export function registerIslands(manifest: Manifest): IslandRef[] {
  const refs: IslandRef[] = [];
  for (const [file, mod] of Object.entries(manifest.islands)) {
    for (const [exportName, value] of Object.entries(mod)) {
      if (typeof value !== "function") continue;
      const ref = { file, exportName };
      registry.set(value, ref);
      refs.push(ref);
    }
  }
  return refs;
}

function createPlain(type: unknown, props: Record<string, unknown>): VNode {
  bypass = true;
  try {
    return h(type as ComponentType, props);
  } finally {
    bypass = false;
  }
}

function comment(text: string): VNode {
  return h(Fragment, { UNSTABLE_comment: text } as Record<string, unknown>);
}

function Slot(props: { id: number; children?: ComponentChildren }): VNode {
  return h(
    Fragment,
    null,
    comment(`frsh:slot:${props.id}`),
    props.children,
    comment(`/frsh:slot:${props.id}`),
  );
}

function wrapperFor(original: unknown, ref: IslandRef): ComponentType {
  let wrapper = wrappers.get(original);
  if (wrapper) return wrapper;
  wrapper = function Island(props: Record<string, unknown>) {
    const scope = useContext(IslandContext);
    if (!scope || scope.inside) return createPlain(original, props);
    const { children, ...rest } = props;
    const hasChildren = children !== undefined;
    const id = scope.collector.add(ref, rest, hasChildren);
    const islandProps = hasChildren
      ? { ...rest, children: h(Slot, { id }, children as ComponentChildren) }
      : rest;
    return h(
      IslandContext.Provider,
      { value: { collector: scope.collector, inside: true } },
      comment(`frsh:island:${id}`),
      createPlain(original, islandProps),
      comment(`/frsh:island:${id}`),
    );
  };
  wrappers.set(original, wrapper);
  return wrapper;
}

const previousVNodeHook = options.vnode;
options.vnode = (vnode: VNode) => {
  if (!bypass && typeof vnode.type === "function") {
    const ref = registry.get(vnode.type);
    if (ref) (vnode as { type: unknown }).type = wrapperFor(vnode.type, ref);
  }
  previousVNodeHook?.(vnode);
};
