#!/usr/bin/env bash
# Debian packages the tests need. Run first by `npm test`: as root it installs what is missing
# (one apt-get update, then one install); otherwise it fails naming the apt-get line.
#
# A package counts as installed only when what the tests use of it works: the command runs, the
# module imports, the library links and loads. A file being present proves nothing: Debian's
# python3-pymodbus installs its files with `--no-install-recommends`, but its server imports
# `serial` and `serial_asyncio`, which the package only recommends, so the test's slave failed
# with `ModuleNotFoundError` on a fresh machine. Every check below is what a test or helper
# really does, and the checks run again after the install, so a package that installs but still
# does not work fails here, by name, not in the middle of a test.
set -euo pipefail

probe_dir=$(mktemp -d)
trap 'rm -rf "$probe_dir"' EXIT

# Compile and run a tiny simavr harness: what firmware/sim/harness.c does (libsimavr-dev's
# header, libsimavr's ATmega328P core, libelf-dev for the firmware loader).
simavr_links() {
  cat >"$probe_dir/sim.c" <<'C'
#include <sim_avr.h>
#include <sim_elf.h>
int main(void) { avr_t *avr = avr_make_mcu_by_name("atmega328p"); return avr ? 0 : 1; }
C
  gcc -I/usr/include/simavr "$probe_dir/sim.c" -o "$probe_dir/sim" -lsimavr -lelf -lpthread -lutil &&
    "$probe_dir/sim"
}

# The AVR firmware build: avr-gcc with avr-libc's headers and start files, linked for the MCU.
avr_builds() {
  printf '#include <avr/io.h>\nint main(void) { DDRB = 1; return 0; }\n' >"$probe_dir/avr.c"
  avr-gcc -mmcu=atmega328p -Os "$probe_dir/avr.c" -o "$probe_dir/avr.elf" && avr-size "$probe_dir/avr.elf"
}

gcc_builds() {
  printf 'int main(void) { return 0; }\n' >"$probe_dir/host.c"
  gcc -std=c99 "$probe_dir/host.c" -o "$probe_dir/host" && "$probe_dir/host"
}

# test/helpers/modbus-pymodbus-slave.py, run by /usr/bin/python3 (Debian's interpreter; the
# python3 first on PATH may be another one without Debian's modules).
pymodbus_imports() {
  /usr/bin/python3 -c 'import serial, serial_asyncio
from pymodbus.datastore import ModbusServerContext, ModbusSlaveContext, ModbusSparseDataBlock
from pymodbus.server.async_io import ModbusTcpServer'
}

# The township broker as test/helpers/mosquitto.ts starts it: a password file made by
# mosquitto_passwd, a loopback listener that accepts a connection.
mosquitto_runs() {
  local bin port pid ok=1
  bin=$(command -v mosquitto || echo /usr/sbin/mosquitto)
  : >"$probe_dir/passwd" && mosquitto_passwd -b "$probe_dir/passwd" probe probe || return 1
  port=$((20000 + RANDOM % 20000))
  printf 'user root\nallow_anonymous false\npassword_file %s\nlistener %s 127.0.0.1\n' "$probe_dir/passwd" "$port" >"$probe_dir/mosq.conf"
  [[ $(id -u) -eq 0 ]] || sed -i '/^user root$/d' "$probe_dir/mosq.conf"
  "$bin" -c "$probe_dir/mosq.conf" 2>/dev/null &
  pid=$!
  for _ in $(seq 50); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then ok=0; break; fi
    sleep 0.1
  done
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
  return $ok
}

# The panel's browser tests: Debian's chromium, headless, renders a page (playwright-core drives
# this binary; no browser is ever downloaded).
chromium_renders() {
  local dom
  dom=$(chromium --headless --no-sandbox --disable-gpu --user-data-dir="$probe_dir/chromium" \
    --dump-dom 'data:text/html,<p id=ok>ok</p>' 2>/dev/null) && [[ $dom == *'id="ok"'* ]]
}

# Chinese on the panel's screenshots renders as Chinese, not boxes: fontconfig resolves a CJK
# face for zh-cn (Noto Sans CJK from fonts-noto-cjk).
cjk_font_resolves() {
  local faces
  faces=$(fc-match -s 'sans-serif:lang=zh-cn') && [[ ${faces,,} == *cjk* ]]
}

# Broadcast audio (drivers/speaker/): espeak-ng speaks Mandarin into a WAV, sox measures it,
# aplay plays it (to ALSA's null device: no sound card is needed to prove aplay works).
# Outputs are captured, not piped into `grep -q`: under pipefail, grep quitting early would
# SIGPIPE the writer and fail the check at random.
speech_renders() {
  local stat
  # cmn-latn-pinyin is the box's Mandarin voice (drivers/speaker/tts.ts says why not cmn).
  espeak-ng -v cmn-latn-pinyin -w "$probe_dir/say.wav" '测试三毫米' && espeak-ng -v cmn -w "$probe_dir/say.wav" '测试 3 毫米' && stat=$(sox "$probe_dir/say.wav" -n stat 2>&1) && [[ $stat == *RMS* ]]
}
# Opus recordings (drivers/speaker/recording.ts): opusenc makes one in the test, opusdec decodes it.
opus_round_trips() {
  local stat
  sox -n -r 48000 -c 1 -b 16 "$probe_dir/tone48.wav" synth 0.2 sine 440 && opusenc --quiet "$probe_dir/tone48.wav" "$probe_dir/tone.opus" &&
    opusdec --quiet --force-wav "$probe_dir/tone.opus" "$probe_dir/back.wav" && stat=$(sox "$probe_dir/back.wav" -n stat 2>&1) && [[ $stat == *RMS* ]]
}
aplay_plays() {
  sox -n -r 16000 -c 1 -b 16 "$probe_dir/tone.wav" synth 0.05 sine 440 && aplay -q -D null "$probe_dir/tone.wav"
}

# npm run package (scripts/package.mjs) and its install test: dpkg-shlibdeps finds the Depends of
# an ELF file; the postinst's adduser; systemd-analyze verifies a unit offline. (Outputs are
# captured, not piped into `grep -q`: see speech_renders.)
shlibdeps_works() {
  local deps
  mkdir -p "$probe_dir/shl/debian" &&
    printf 'Source: probe\n\nPackage: probe\nArchitecture: any\n' >"$probe_dir/shl/debian/control" &&
    deps=$(cd "$probe_dir/shl" && dpkg-shlibdeps -O /bin/true 2>/dev/null) && [[ $deps == *'shlibs:Depends=libc6'* ]]
}
unit_verifies() {
  printf '[Service]\nExecStart=/bin/true\n' >"$probe_dir/probe.service" && systemd-analyze verify "$probe_dir/probe.service"
}

# The udev rules tests (test/helpers/udev-test.ts): udevadm test on a stand-in tty, in a private
# mount namespace (a user namespace too, so the check also runs unprivileged) so that nothing
# it creates outlives the check.
udev_tests() {
  local out
  out=$(unshare -rm sh -c 'mount -t tmpfs none /run && mkdir -p /run/udev/rules.d && udevadm test --action=add /sys/class/tty/tty0' 2>&1) &&
    [[ $out == *'DEVPATH=/devices/virtual/tty/tty0'* ]]
}

# package → the check that proves the tests can use it
declare -A CHECK=(
  [libxml2-utils]="printf '<a/>' | xmllint --noout -"            # CAP 1.2 schema validation
  [make]="make --version"
  [gcc]="gcc_builds"                                              # firmware host tests, simavr harness
  [gcc-avr]="avr_builds"                                          # firmware AVR build
  [avr-libc]="avr_builds"
  [binutils-avr]="avr_builds"
  [simavr]="simavr_links"
  [libsimavr-dev]="simavr_links"
  [libelf-dev]="simavr_links"
  [python3-pymodbus]="pymodbus_imports"                           # a Modbus slave nobody here wrote
  [python3-serial]="pymodbus_imports"                             # only recommended by pymodbus,
  [python3-serial-asyncio]="pymodbus_imports"                     # but its server imports both
  [mbpoll]="mbpoll -h"                                            # a Modbus master nobody here wrote (libmodbus)
  [socat]="socat -V"                                              # pty pairs standing in for RS-485 lines
  [mosquitto]="mosquitto_runs"                                    # the township broker in uplink tests
  [chromium]="chromium_renders"                                   # panel browser tests (playwright-core)
  [fontconfig]="cjk_font_resolves"
  [fonts-noto-cjk]="cjk_font_resolves"                            # Chinese in screenshots
  [espeak-ng]="speech_renders"                                    # offline TTS, voices cmn-latn-pinyin and en
  [sox]="speech_renders"                                          # audio checks in speaker tests
  [alsa-utils]="aplay_plays"                                      # the ALSA speaker sink
  [opus-tools]="opus_round_trips"                                 # Opus recordings of broadcast templates
  [dpkg-dev]="shlibdeps_works"                                    # npm run package: the .deb's Depends
  [adduser]="adduser --version"                                   # the package's postinst, in its install test
  [systemd]="unit_verifies"                                       # systemd-analyze verify of the unit
  [udev]="udev_tests"                                             # udevadm test for the RS-485 rules
  [openssl]="openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=probe -keyout $probe_dir/k.pem -out $probe_dir/c.pem"  # test CAs for TLS
)

failing() {
  local pkg
  for pkg in "${!CHECK[@]}"; do
    (eval "${CHECK[$pkg]}") >/dev/null 2>&1 || echo "$pkg"
  done | sort -u
}

mapfile -t missing < <(failing)
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "test-deps: these Debian packages are missing or do not work: ${missing[*]}" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "test-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

mapfile -t still < <(failing)
if [[ ${#still[@]} -ne 0 ]]; then
  echo "test-deps: installed, but these still fail their check: ${still[*]}" >&2
  for pkg in "${still[@]}"; do
    echo "--- $pkg: ${CHECK[$pkg]}" >&2
    (eval "${CHECK[$pkg]}") 2>&1 | tail -5 >&2 || true
  done
  exit 1
fi
