// Collects what `<Head>` receives during one server render, for render.ts to place
// inside the document's <head>. Preact context, so concurrent renders never mix.
import { type ComponentChildren, createContext } from "preact";

export interface HeadCollector {
  add(children: ComponentChildren): void;
}

export const HeadContext = createContext<HeadCollector | null>(null);
