/*
 * sd_notify(3) for the box: one datagram to systemd's notification socket, sent from the box's
 * own process. Node's `dgram` has no AF_UNIX, and `net` only does stream sockets, which a
 * SOCK_DGRAM socket refuses (EPROTOTYPE); this is the one call Node lacks.
 *
 * Why a native addon and not `systemd-notify` or a helper process (sd-notify.ts says more):
 * systemd reads the sender's PID from SCM_CREDENTIALS, which the kernel attaches itself. From
 * the main process the default NotifyAccess=main accepts it, always. A `systemd-notify` child
 * needs NotifyAccess=all, and systemd 252 (Debian bookworm, Raspberry Pi OS) drops a message
 * whose sender has exited before systemd looked up its cgroup — the known race of that tool.
 *
 * N-API only (no V8 or libuv headers, no link against node): the same .node file loads in any
 * Node >= 12 of its architecture, and builds with a plain `cc` (scripts/build-native.mjs), also a
 * cross compiler, since node_api.h is the same for every architecture.
 *
 * send(socket, message) → 0, or the errno of socket()/sendto(). `socket` is $NOTIFY_SOCKET as
 * systemd sets it: a path, or "@name" for the abstract namespace (sd_notify(3)). MSG_DONTWAIT:
 * a full receive queue (systemd busy) costs one ping (EAGAIN), it never blocks the event loop.
 */
#define NAPI_VERSION 8
#include <node_api.h>

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* A notification is a few short NAME=value lines; systemd itself accepts up to 4 KiB a datagram here. */
#define MAX_MESSAGE 4096

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, "ERR_SD_NOTIFY_ARGUMENT", msg);
  return NULL;
}

static napi_value Send(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2) return throw_type(env, "send(socket, message) takes two strings");

  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  char path[sizeof sa.sun_path + 1];
  size_t plen = 0;
  if (napi_get_value_string_utf8(env, argv[0], NULL, 0, &plen) != napi_ok) return throw_type(env, "socket must be a string");
  if (plen < 2 || plen > sizeof sa.sun_path) return throw_type(env, "socket must be an absolute path or @name, at most 108 bytes");
  napi_get_value_string_utf8(env, argv[0], path, sizeof path, &plen);
  if (path[0] != '/' && path[0] != '@') return throw_type(env, "socket must be an absolute path or @name");

  char msg[MAX_MESSAGE + 1];
  size_t mlen = 0;
  if (napi_get_value_string_utf8(env, argv[1], NULL, 0, &mlen) != napi_ok) return throw_type(env, "message must be a string");
  if (mlen == 0 || mlen > MAX_MESSAGE) return throw_type(env, "message must be 1 to 4096 bytes");
  napi_get_value_string_utf8(env, argv[1], msg, sizeof msg, &mlen);

  socklen_t salen;
  memcpy(sa.sun_path, path, plen);
  if (path[0] == '@') {
    sa.sun_path[0] = '\0'; /* abstract: the name is exactly these bytes, no terminator */
    salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen);
  } else {
    salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen + (plen < sizeof sa.sun_path ? 1 : 0));
  }

  int err = 0;
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    err = errno;
  } else {
    if (sendto(fd, msg, mlen, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&sa, salen) < 0) err = errno;
    close(fd);
  }
  napi_value out;
  napi_create_int32(env, err, &out);
  return out;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "send", NAPI_AUTO_LENGTH, Send, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "send", fn) != napi_ok) return NULL;
  return exports;
}
