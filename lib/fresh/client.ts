// Browser runtime (bundled as main.js): reads the page's JSON data block, loads
// the islands' modules and hydrates each one between its comment markers.
import { type ComponentChildren, type ComponentType, h, hydrate } from "preact";
import { signal } from "@preact/signals";
import { decodeProps } from "./serialize.ts";
import { setAssetVersions, setBuildId } from "./build_info.ts";
import { versionStaticUrls } from "./asset_urls.ts";

interface IslandData {
  /** Module URL, export name, encoded props, has server-rendered children. */
  u: string;
  e: string;
  p: unknown;
  c: boolean;
}
interface PageData {
  buildId: string;
  /** static/ files' content hashes, so `asset()` here gives the server's URLs. */
  assets?: Record<string, string>;
  islands: IslandData[];
}

const STATE_ID = "__FRSH_STATE";

/** The island's nodes as a parent Preact can hydrate into and update later. */
function rangeRoot(parent: Node, nodes: Node[], end: Node): Element {
  const insert = (node: Node, before: Node | null) =>
    parent.insertBefore(node, before ?? end);
  return {
    nodeType: 1,
    parentNode: parent,
    firstChild: nodes[0] ?? null,
    childNodes: nodes,
    namespaceURI: (parent as Element).namespaceURI,
    ownerDocument: document,
    insertBefore: insert,
    appendChild: (node: Node) => insert(node, null),
    removeChild: (node: Node) => parent.removeChild(node),
    contains: (node: Node) => parent.contains(node),
  } as unknown as Element;
}

/** Server-rendered children become static vnodes so the island can place them. */
function toVNode(node: Node): ComponentChildren {
  if (node.nodeType === Node.TEXT_NODE) return node.textContent;
  if (node.nodeType !== Node.ELEMENT_NODE) return null;
  const element = node as Element;
  const props: Record<string, unknown> = {};
  for (const attr of Array.from(element.attributes)) {
    const asProperty =
      (element as unknown as Record<string, unknown>)[attr.name];
    props[attr.name] = typeof asProperty === "boolean" ? true : attr.value;
  }
  return h(
    element.localName,
    props,
    ...Array.from(element.childNodes, toVNode),
  );
}

function takeSlot(nodes: Node[], id: number): ComponentChildren {
  const start = `frsh:slot:${id}`;
  const end = `/frsh:slot:${id}`;
  for (const top of nodes) {
    const walker = document.createTreeWalker(top, NodeFilter.SHOW_COMMENT);
    for (
      let current = walker.currentNode;
      current;
      current = walker.nextNode()!
    ) {
      if (
        current.nodeType !== Node.COMMENT_NODE || current.nodeValue !== start
      ) continue;
      const children: ComponentChildren[] = [];
      let sibling = current.nextSibling;
      while (
        sibling &&
        !(sibling.nodeType === Node.COMMENT_NODE && sibling.nodeValue === end)
      ) {
        children.push(toVNode(sibling));
        sibling = sibling.nextSibling;
      }
      sibling?.remove();
      (current as ChildNode).remove();
      return children;
    }
  }
  return null;
}

function findMarkers(): Map<number, [Comment, Comment]> {
  const found = new Map<number, [Comment, Comment]>();
  const starts = new Map<number, Comment>();
  const walker = document.createTreeWalker(
    document.body,
    NodeFilter.SHOW_COMMENT,
  );
  while (walker.nextNode()) {
    const node = walker.currentNode as Comment;
    const match = node.nodeValue?.match(/^(\/?)frsh:island:(\d+)$/);
    if (!match) continue;
    const id = Number(match[2]);
    if (!match[1]) starts.set(id, node);
    else if (starts.has(id)) found.set(id, [starts.get(id)!, node]);
  }
  return found;
}

function between(start: Node, end: Node): Node[] {
  const nodes: Node[] = [];
  for (
    let node = start.nextSibling;
    node && node !== end;
    node = node.nextSibling
  ) {
    nodes.push(node);
  }
  return nodes;
}

async function boot(): Promise<void> {
  const block = document.getElementById(STATE_ID);
  if (!block?.textContent) return;
  const data = JSON.parse(block.textContent) as PageData;
  setBuildId(data.buildId);
  setAssetVersions(data.assets ?? {});
  versionStaticUrls();
  const modules = new Map<
    string,
    Promise<{ default: Record<string, unknown> }>
  >();
  for (const island of data.islands) {
    if (!modules.has(island.u)) modules.set(island.u, import(island.u));
  }
  const signals = new Map<number, unknown>();
  const props = data.islands.map((island) =>
    decodeProps(island.p, (value) => signal(value), signals) as Record<
      string,
      unknown
    >
  );
  const markers = findMarkers();
  for (const [index, island] of data.islands.entries()) {
    const range = markers.get(index);
    if (!range) continue;
    const [start, end] = range;
    const component = (await modules.get(island.u)!)
      .default[island.e] as ComponentType;
    const islandProps = props[index];
    if (island.c) islandProps.children = takeSlot(between(start, end), index);
    hydrate(
      h(component, islandProps),
      rangeRoot(start.parentNode!, between(start, end), end),
    );
  }
}

boot().catch((error) => console.error("Island hydration failed:", error));
