/**
 * A React root in jsdom and the few gestures the panel's DOM tests need: find a control by its
 * label, type into it, click, submit.
 */
import type * as React from 'react';
import { act } from 'react';
import { createRoot, Root } from 'react-dom/client';

(globalThis as any).IS_REACT_ACT_ENVIRONMENT = true;

export interface IDom {
  container: HTMLDivElement;
  render: (element: React.ReactElement) => Promise<void>;
  unmount: () => void;
}

export function mount(): IDom {
  const container = document.createElement('div');
  document.body.appendChild(container);
  const root: Root = createRoot(container);
  return {
    container,
    render: async element => {
      await act(async () => root.render(element));
    },
    unmount: () => {
      act(() => root.unmount());
      container.remove();
    }
  };
}

/** The control a `<label>` starting with `text` points at. */
export function labelled<T extends HTMLElement = HTMLInputElement>(scope: Element, text: string): T {
  const label = [...scope.querySelectorAll('label')].find(l => l.textContent?.trim().startsWith(text));
  if (!label) {
    throw new Error(`no label "${text}"`);
  }
  const control = scope.querySelector(`#${CSS.escape(label.htmlFor)}`);
  if (!control) {
    throw new Error(`label "${text}" points at nothing`);
  }
  return control as T;
}

/** The button with this accessible name (its aria-label, else its text). */
export function button(scope: Element, name: string | RegExp): HTMLButtonElement {
  const found = [...scope.querySelectorAll('button')].find(b => {
    const label = b.getAttribute('aria-label') ?? b.textContent?.trim() ?? '';
    return typeof name === 'string' ? label === name : name.test(label);
  });
  if (!found) {
    throw new Error(`no button ${name}`);
  }
  return found;
}

export async function click(el: Element): Promise<void> {
  await act(async () => {
    (el as HTMLElement).click();
  });
}

/** Type a value the way React sees it (through the native setter, then an input event). */
export async function type(el: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement, value: string): Promise<void> {
  const proto = Object.getPrototypeOf(el);
  const setter = Object.getOwnPropertyDescriptor(proto, 'value')!.set!;
  await act(async () => {
    setter.call(el, value);
    el.dispatchEvent(new Event(el instanceof HTMLSelectElement ? 'change' : 'input', { bubbles: true }));
  });
}

export async function submit(form: HTMLFormElement): Promise<void> {
  await act(async () => {
    form.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
  });
}

/** Let timers and promises started by the last gesture run (e.g. the focus move). */
export async function settle(): Promise<void> {
  await act(async () => {
    await new Promise(resolve => setTimeout(resolve, 0));
  });
}
