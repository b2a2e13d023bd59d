/**
 * Sign in with the officer's account (the site's `mqtt.accounts`, role officer or observer).
 * The box's answers in words: a wrong password, and after five failures a minute the lockout
 * with its wait (429 Retry-After).
 */
import { ApiError, signIn } from './api.ts';
import { h } from './dom.ts';
import { setLang, t, currentLang } from './i18n.ts';
import type { SessionInfo } from './types.ts';

export function signInView(done: (s: SessionInfo) => void, relabel: () => void): HTMLElement {
  let last = '';
  try {
    last = localStorage.getItem('sb-user') ?? '';
  } catch {
    last = '';
  }
  const user = h('input', { name: 'username', autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false', required: true, value: last, maxlength: 64 });
  const pass = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true, maxlength: 256 });
  const message = h('p', { class: 'signin-message', role: 'alert', 'data-part': 'message' });
  const go = h('button', { type: 'submit', class: 'btn big primary', 'data-action': 'sign-in' }, t('signIn'));
  const form = h(
    'form',
    { class: 'signin card', autocomplete: 'on' },
    h('h1', null, t('app')),
    h('label', null, t('username'), user),
    h('label', null, t('password'), pass),
    message,
    h('div', { class: 'actions' }, go, h('button', { type: 'button', class: 'btn big', 'data-action': 'lang', onclick: () => (setLang(currentLang() === 'zh' ? 'en' : 'zh'), relabel()) }, t('langSwitch'))),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (go.disabled) return;
    go.disabled = true;
    message.textContent = t('signingIn');
    message.className = 'signin-message';
    try {
      const s = await signIn(user.value.trim(), pass.value);
      try {
        localStorage.setItem('sb-user', s.username);
      } catch {
        // no storage: nothing to remember
      }
      done(s);
    } catch (err) {
      const status = err instanceof ApiError ? err.status : 0;
      const retry = err instanceof ApiError ? Number(err.body?.retry_after_s ?? 60) : 60;
      message.textContent = status === 401 ? t('wrongPassword') : status === 429 ? t('lockedOut', { s: retry }) : status === 503 ? t('busy') : status === 0 ? t('noBox') : err instanceof Error ? err.message : String(err);
      message.className = 'signin-message bad';
      message.dataset.status = String(status);
      pass.value = '';
      pass.focus();
    } finally {
      go.disabled = false;
    }
  });
  window.setTimeout(() => (last ? pass : user).focus(), 0);
  return h('div', { class: 'signin-screen' }, form);
}
