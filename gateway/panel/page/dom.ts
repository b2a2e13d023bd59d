/**
 * Building the page's elements without innerHTML: every text from the box (alert sentences,
 * names, free broadcast text) goes in as a text node, never as markup.
 *
 * The state arrives up to ten times a second. Replacing a button under a finger loses the tap,
 * so parts are redrawn only when what they show changed (`patch` with a signature, `keyed` for
 * lists), and the seconds that tick are updated in place (`data-since`, see main.ts).
 */
export type Child = Node | string | number | null | undefined | false | Child[];
export type Attrs = Record<string, unknown>;

export function append(el: Element, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(typeof c === 'number' ? String(c) : c);
  }
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v as EventListener);
    else if (k === 'class') el.className = String(v);
    else if (k === 'value' || k === 'checked' || k === 'disabled') (el as unknown as Record<string, unknown>)[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

const signatures = new WeakMap<Element, string>();

/** Redraws `el`'s children with `render()` only when `sig` differs from the last drawn. */
export function patch(el: Element, sig: unknown, render: () => Child[]): void {
  const s = JSON.stringify(sig) ?? '';
  if (signatures.get(el) === s) return;
  signatures.set(el, s);
  el.replaceChildren();
  append(el, render());
}

/** A list whose items keep their element while their own signature is unchanged. */
export function keyed<T>(el: Element, items: T[], key: (x: T) => string, render: (x: T) => HTMLElement): void {
  const old = new Map<string, HTMLElement>();
  for (const c of Array.from(el.children)) if (c instanceof HTMLElement && c.dataset.key !== undefined) old.set(c.dataset.key, c);
  let at = 0;
  for (const item of items) {
    const k = key(item);
    const sig = JSON.stringify(item);
    let node = old.get(k);
    if (!node || signatures.get(node) !== sig) {
      const fresh = render(item);
      fresh.dataset.key = k;
      signatures.set(fresh, sig);
      if (node) node.replaceWith(fresh);
      node = fresh;
    }
    old.delete(k);
    if (el.children[at] !== node) el.insertBefore(node, el.children[at] ?? null);
    at++;
  }
  for (const n of old.values()) n.remove();
  // Anything not keyed (an "empty" line) goes once the list has items.
  for (const c of Array.from(el.children).slice(at)) c.remove();
}

/** A button with a large touch target; `action` runs once per tap (busy while its promise runs). */
export function button(label: Child, action: () => unknown, cls = '', attrs: Attrs = {}): HTMLButtonElement {
  const b = h('button', { type: 'button', class: `btn ${cls}`.trim(), ...attrs }, label);
  b.addEventListener('click', async () => {
    if (b.dataset.busy) return;
    b.dataset.busy = '1';
    b.setAttribute('aria-busy', 'true');
    try {
      await action();
    } finally {
      delete b.dataset.busy;
      b.removeAttribute('aria-busy');
    }
  });
  return b;
}
