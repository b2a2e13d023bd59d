#!/usr/bin/env bash
# Debian packages the tests need. Run first by `npm test`: as root it installs what is missing
# (one apt-get update, then one install); otherwise it fails naming the apt-get line.
set -euo pipefail

# package → a file or command that proves it is installed
declare -A PROOF=(
  [libxml2-utils]=xmllint          # CAP 1.2 schema validation
  [make]=make
  [gcc]=gcc                        # firmware host tests, simavr harness
  [gcc-avr]=avr-gcc                # firmware AVR build
  [avr-libc]=/usr/lib/avr/include/avr/io.h
  [simavr]=simavr
  [libsimavr-dev]=/usr/include/simavr/sim_avr.h
  [libelf-dev]=/usr/include/libelf.h
  [python3-pymodbus]=/usr/lib/python3/dist-packages/pymodbus  # a Modbus slave nobody here wrote
  [mbpoll]=mbpoll                  # a Modbus master nobody here wrote (libmodbus)
  [socat]=socat                    # pty pairs standing in for RS-485 lines
)

missing=()
for pkg in "${!PROOF[@]}"; do
  proof=${PROOF[$pkg]}
  if [[ $proof == /* ]]; then
    [[ -e $proof ]] || missing+=("$pkg")
  else
    command -v "$proof" >/dev/null 2>&1 || missing+=("$pkg")
  fi
done
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | grep -v '^$' | sort -u || true)

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "test-deps: missing Debian packages. Install them with:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "test-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
