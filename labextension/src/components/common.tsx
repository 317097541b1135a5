/**
 * Small shared pieces of the panel: buttons, fields with their error, badges, sections.
 */
import { Clipboard } from '@jupyterlab/apputils';
import {
  caretDownIcon,
  caretRightIcon,
  checkIcon,
  copyIcon
} from '@jupyterlab/ui-components';
import * as React from 'react';

import type { IFieldError } from '../api';
import { countdown, formatDate } from '../format';
import type { AccessInfo } from '../types';
import { levelName } from '../vocab';

/** Class names of JupyterLab's own buttons (the dialog's), so ours look the same. */
export const BUTTON = {
  accept: 'jp-mod-styled jp-mod-accept jp-DataShare-button',
  warn: 'jp-mod-styled jp-mod-warn jp-DataShare-button',
  plain: 'jp-mod-styled jp-DataShare-button jp-DataShare-button-plain'
};

/** Copy a text to the clipboard; the button says "Copied" for a moment. */
export function CopyButton(props: {
  text: string;
  label: string;
  showText?: boolean;
}): JSX.Element {
  const [copied, setCopied] = React.useState(false);
  React.useEffect(() => {
    if (!copied) {
      return;
    }
    const timer = window.setTimeout(() => setCopied(false), 1500);
    return () => window.clearTimeout(timer);
  }, [copied]);
  const Icon = copied ? checkIcon : copyIcon;
  return (
    <button
      type="button"
      className="jp-DataShare-iconButton"
      aria-label={props.label}
      title={copied ? 'Copied' : props.label}
      onClick={() => {
        Clipboard.copyToSystem(props.text);
        setCopied(true);
      }}
    >
      <Icon.react tag="span" elementSize="normal" />
      {props.showText ? (
        <span className="jp-DataShare-iconButtonText">
          {copied ? 'Copied' : 'Copy'}
        </span>
      ) : null}
    </button>
  );
}

/** A secret shown once: the text in a read-only box, with a copy button and a warning. */
export function ShownOnce(props: {
  label: string;
  value: string;
  testId?: string;
  note?: string;
}): JSX.Element {
  const id = React.useId();
  return (
    <div className="jp-DataShare-once">
      <label htmlFor={id} className="jp-DataShare-onceLabel">
        {props.label}
      </label>
      <div className="jp-DataShare-onceRow">
        <input
          id={id}
          className="jp-mod-styled jp-DataShare-onceValue"
          readOnly
          value={props.value}
          data-testid={props.testId}
          onFocus={e => e.currentTarget.select()}
        />
        <CopyButton text={props.value} label={`Copy ${props.label}`} showText />
      </div>
      <div className="jp-DataShare-hint">
        {props.note ??
          'Shown only this once: the server keeps just a hash. Copy it now.'}
      </div>
    </div>
  );
}

/** The access level in force, as a coloured badge (with the embargo countdown). */
export function LevelBadge(props: {
  access: AccessInfo;
  now?: number;
}): JSX.Element {
  const { access } = props;
  const level = access.level_in_force;
  let title = levelName(level);
  let extra = '';
  if (access.level === 'embargoed' && level === 'embargoed') {
    const left = countdown(access.embargo_until, props.now);
    extra = left ? ` · opens ${left}` : '';
    title = `Embargoed until ${formatDate(access.embargo_until)}, then ${levelName(access.after_embargo ?? 'open')}`;
  } else if (access.level === 'embargoed') {
    title = `Embargo ended ${formatDate(access.embargo_until)}; now ${levelName(level)}`;
  }
  return (
    <span
      className={`jp-DataShare-badge jp-DataShare-badge-${level}`}
      title={title}
      data-level={level}
    >
      {levelName(level)}
      {extra}
    </span>
  );
}

/** A small state badge for links and grants (active / expired / revoked). */
export function StateBadge(props: { state: string }): JSX.Element {
  return (
    <span
      className={`jp-DataShare-badge jp-DataShare-state-${props.state}`}
      data-state={props.state}
    >
      {props.state}
    </span>
  );
}

/** A field's error (an id so the control can point at it with aria-describedby). */
export function FieldError(props: {
  id: string;
  message?: string | null;
}): JSX.Element | null {
  if (!props.message) {
    return null;
  }
  return (
    <div id={props.id} className="jp-DataShare-fieldError" role="alert">
      {props.message}
    </div>
  );
}

/** A message above a form or list: errors and notices. */
export function Banner(props: {
  kind: 'error' | 'info' | 'success' | 'warning';
  children: React.ReactNode;
  onDismiss?: () => void;
}): JSX.Element {
  return (
    <div
      className={`jp-DataShare-banner jp-DataShare-banner-${props.kind}`}
      role={props.kind === 'error' ? 'alert' : 'status'}
    >
      <div className="jp-DataShare-bannerText">{props.children}</div>
      {props.onDismiss ? (
        <button
          type="button"
          className="jp-DataShare-linkButton"
          onClick={props.onDismiss}
          aria-label="Dismiss message"
        >
          Dismiss
        </button>
      ) : null}
    </div>
  );
}

/** A spinner for work under way. */
export function Busy(props: { label: string }): JSX.Element {
  return (
    <span className="jp-DataShare-busy" role="status" aria-live="polite">
      <span className="jp-DataShare-spinner" aria-hidden="true" />
      <span>{props.label}</span>
    </span>
  );
}

/**
 * A collapsible section of the dataset view; `open` can be forced by a command. A `lazy` section
 * renders its body only once first opened (for bodies that fetch something when they mount).
 */
export function Section(props: {
  id: string;
  title: string;
  count?: number | string;
  open?: boolean;
  lazy?: boolean;
  onToggle?: (open: boolean) => void;
  children: React.ReactNode;
}): JSX.Element {
  const [open, setOpen] = React.useState(props.open ?? false);
  const [opened, setOpened] = React.useState(open);
  React.useEffect(() => {
    if (props.open !== undefined) {
      setOpen(props.open);
    }
  }, [props.open]);
  React.useEffect(() => {
    if (open) {
      setOpened(true);
    }
  }, [open]);
  const Caret = open ? caretDownIcon : caretRightIcon;
  const bodyId = `jp-DataShare-section-${props.id}`;
  return (
    <section
      className="jp-DataShare-section"
      data-section={props.id}
      aria-label={props.title}
    >
      <button
        type="button"
        className="jp-DataShare-sectionHeader"
        aria-expanded={open}
        aria-controls={bodyId}
        onClick={() => {
          setOpen(!open);
          props.onToggle?.(!open);
        }}
      >
        <Caret.react tag="span" elementSize="normal" />
        <span className="jp-DataShare-sectionTitle">{props.title}</span>
        {props.count !== undefined ? (
          <span className="jp-DataShare-count">{props.count}</span>
        ) : null}
      </button>
      <div id={bodyId} className="jp-DataShare-sectionBody" hidden={!open}>
        {props.lazy && !opened && !open ? null : props.children}
      </div>
    </section>
  );
}

/** Save a blob as a file through the browser (the request carried the token, a link could not). */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.style.display = 'none';
  document.body.appendChild(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Re-render every `ms` (countdowns, elapsed time). */
export function useNow(ms: number): number {
  const [now, setNow] = React.useState(Date.now());
  React.useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), ms);
    return () => window.clearInterval(timer);
  }, [ms]);
  return now;
}

/** The DOM id of a form field named as the server names it (`creators[0].orcid`). */
export function fieldId(uid: string, name: string): string {
  return `${uid}-${name.replace(/[^A-Za-z0-9_-]+/g, '-')}`;
}

/** The attributes that tie a control to its error message (when the error is about it). */
export function invalidProps(
  uid: string,
  name: string,
  error: IFieldError | null | undefined
): { 'aria-invalid'?: true; 'aria-describedby'?: string } {
  return error?.field === name
    ? { 'aria-invalid': true, 'aria-describedby': `${fieldId(uid, name)}-error` }
    : {};
}

/** The error message of one field, placed where `invalidProps` points. */
export function ErrorOf(props: {
  uid: string;
  name: string;
  error: IFieldError | null | undefined;
}): JSX.Element | null {
  return (
    <FieldError
      id={`${fieldId(props.uid, props.name)}-error`}
      message={props.error?.field === props.name ? props.error.message : null}
    />
  );
}

/** Move the focus to the field a server error names, so the keyboard lands where to fix it. */
export function focusField(uid: string, name: string, tries = 20): void {
  // The field may be rendered only by the state change that asked for the focus: try again
  // until it exists (a few ticks), rather than silently leaving the focus where it was.
  window.setTimeout(() => {
    const field = document.getElementById(fieldId(uid, name));
    if (field) {
      field.focus();
    } else if (tries > 1) {
      focusField(uid, name, tries - 1);
    }
  }, 0);
}

/** A labelled text input or textarea, with its error underneath. */
export function TextField(props: {
  uid: string;
  name: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  error?: IFieldError | null;
  multiline?: boolean;
  rows?: number;
  type?: string;
  placeholder?: string;
  hint?: string;
  className?: string;
  inputRef?: React.Ref<HTMLInputElement>;
}): JSX.Element {
  const id = fieldId(props.uid, props.name);
  const common = {
    id,
    value: props.value,
    placeholder: props.placeholder,
    ...invalidProps(props.uid, props.name, props.error)
  };
  return (
    <div className={`jp-DataShare-field ${props.className ?? ''}`}>
      <label htmlFor={id}>{props.label}</label>
      {props.multiline ? (
        <textarea
          {...common}
          className="jp-mod-styled jp-DataShare-textarea"
          rows={props.rows ?? 3}
          onChange={e => props.onChange(e.target.value)}
        />
      ) : (
        <input
          {...common}
          ref={props.inputRef}
          type={props.type ?? 'text'}
          className="jp-mod-styled"
          onChange={e => props.onChange(e.target.value)}
        />
      )}
      {props.hint ? <div className="jp-DataShare-hint">{props.hint}</div> : null}
      <ErrorOf uid={props.uid} name={props.name} error={props.error} />
    </div>
  );
}

/** The reason a denial needs (the server names the field `reason` when it is missing). */
export function ReasonField(props: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  error: string | null;
  disabled: boolean;
}): JSX.Element {
  return (
    <>
      <label htmlFor={props.id}>{props.label}</label>
      <textarea
        id={props.id}
        className="jp-mod-styled jp-DataShare-textarea"
        rows={2}
        value={props.value}
        onChange={e => props.onChange(e.target.value)}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={props.error ? `${props.id}-error` : undefined}
        disabled={props.disabled}
      />
      <FieldError id={`${props.id}-error`} message={props.error} />
    </>
  );
}
