#!/usr/bin/env bash
# Builds the Debian package with cpack, unpacks it into a scratch root
# (dpkg -x: no root needed, the system untouched) and checks what it holds:
# the files at their paths, no development files, no maintainer script, the
# installed binary running a real pass, the man page and the completions
# covering every command, flag and config field the binary and the config
# loader know (so one added without its documentation fails here).
# Under CI=true as root it also installs the package with dpkg -i, checks
# the unit is not enabled, and removes it.
#   deb_check.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 source=$2
work=$(mktemp -d /tmp/s3r-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "deb_check: $*" >&2; exit 1; }

cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/out" >"$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log" >&2; fail "cpack failed"; }
debs=("$work"/out/*.deb)
[ ${#debs[@]} -eq 1 ] && [ -f "${debs[0]}" ] || fail "expected one .deb, got: ${debs[*]}"
deb=${debs[0]}

# The control data: the name, and the runtime libraries as dependencies.
[ "$(dpkg-deb -f "$deb" Package)" = s3reconcile ] || fail "package name is not s3reconcile"
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libc6 libcurl4 libpq5 libsqlite3-0; do
  grep -q "\b$lib\b" <<<"$depends" || fail "Depends lacks $lib: $depends"
done
# Nothing runs at install time: in particular nothing enables the unit.
dpkg-deb -e "$deb" "$work/control"
for script in preinst postinst prerm postrm; do
  [ ! -e "$work/control/$script" ] || fail "the package has a $script script"
done

root=$work/root
dpkg-deb -x "$deb" "$root"
bin=$root/usr/bin/s3reconcile
man_page=$root/usr/share/man/man1/s3reconcile.1.gz
bash_completion=$root/usr/share/bash-completion/completions/s3reconcile
zsh_completion=$root/usr/share/zsh/vendor-completions/_s3reconcile
unit=$root/lib/systemd/system/s3reconcile.service
example=$root/usr/share/doc/s3reconcile/examples/config.yaml
dashboard=$root/usr/share/s3reconcile/grafana/s3reconcile-dashboard.json
test -x "$bin" || fail "no executable /usr/bin/s3reconcile"
for f in "$man_page" "$bash_completion" "$zsh_completion" "$unit" "$example" "$dashboard"; do
  test -f "$f" || fail "missing ${f#"$root"}"
done
cmp -s "$example" "$source/examples/config.yaml" || fail "the example config differs from examples/config.yaml"
cmp -s "$dashboard" "$source/packaging/grafana/s3reconcile-dashboard.json" || fail "the dashboard differs"
grep -qx 'ExecStart=/usr/bin/s3reconcile serve .*' "$unit" || fail "the unit does not run /usr/bin/s3reconcile serve"
# The development install's files stay out of the package.
dev=$(cd "$root" && find . \( -name '*.a' -o -name '*.h' -o -path '*/cmake/*' \) -print)
[ -z "$dev" ] || fail "development files in the package: $dev"

# The installed binary runs: its version, and a real pass on a folder with a
# SQLite index (two files imported, then no drift left).
version=$(grep -Eo '^project\(s3reconcile VERSION [0-9.]+' "$source/CMakeLists.txt" | awk '{print $3}')
[ "$("$bin" --version)" = "$version" ] || fail "--version printed $("$bin" --version), not $version"
mkdir -p "$work/pass/objs/photos"
echo a >"$work/pass/objs/photos/a"
echo b >"$work/pass/objs/photos/b"
printf 'store:\n  sqlite: index.db\nbuckets: [photos]\nbackends:\n  - name: disk\n    type: local\n    path: objs\n' \
  >"$work/pass/config.yaml"
out=$("$bin" run --config "$work/pass/config.yaml" --output json --log-level off) || fail "run failed: $out"
grep -q '"status":"ok"' <<<"$out" && grep -q '"imported":2,' <<<"$out" || fail "run did not import 2 rows: $out"
test -s "$work/pass/index.db" || fail "run left no index"
"$bin" check --config "$work/pass/config.yaml" --log-level off >/dev/null ||
  fail "check after the run found drift (exit $?): the rows are not in the index"

# What the documentation must cover, from the binary and the config loader.
commands=$("$bin" --help | sed -n '/^Subcommands:/,$s/^  \([a-z][a-z-]*\) .*/\1/p')
[ "$(wc -w <<<"$commands")" -ge 7 ] || fail "too few subcommands in --help: $commands"
flags_of() { "$bin" "$1" --help | sed -nE 's/^  (-[a-zA-Z],)?(--[a-z][a-z-]*).*/\2/p'; }
all_flags=$( ("$bin" --help | sed -nE 's/^  (-[a-zA-Z],)?(--[a-z][a-z-]*).*/\2/p'
  for c in $commands; do flags_of "$c"; done) | sort -u)
# Config fields: every key of examples/config.yaml, and every field the
# loader accepts (the lists it checks fields against, `only({...})`).
fields=$( (sed -e 's/#.*//' "$source/examples/config.yaml" | grep -oE '^[ -]*[a-z_]+:' | tr -d ' :-'
  perl -0ne 'print "$1\n" while /\bonly\(\{(.*?)\}\)/gs' "$source/src/config/config.cc" |
    grep -oE '"[a-z_]+"' | tr -d '"') | sort -u)
[ "$(wc -w <<<"$fields")" -ge 40 ] || fail "too few config fields found: $fields"

gzip -t "$man_page" || fail "the man page is not a valid gzip file"
# Rendered as man would, wide enough that no word is broken; any groff
# warning (a bad request, a line that cannot be broken) fails.
zcat "$man_page" | groff -man -Tascii -P-cbou -rLL=200n -ww >"$work/man.txt" 2>"$work/man.err"
[ ! -s "$work/man.err" ] || fail "groff warnings: $(cat "$work/man.err")"
if command -v man >/dev/null; then
  MANWIDTH=100 man -l "$man_page" >/dev/null 2>"$work/man-l.err" || fail "man -l failed: $(cat "$work/man-l.err")"
fi
# One section of the rendered page (from its heading to the next) in a file:
# grep -q on a pipe would stop early and fail the pipeline (pipefail).
for s in COMMANDS OPTIONS CONFIGURATION; do
  sed -n "/^$s\$/,/^[A-Z][A-Z ]*\$/p" "$work/man.txt" >"$work/man-$s.txt"
done
missing=()
for c in $commands; do
  grep -qE "^ +$c( |\$)" "$work/man-COMMANDS.txt" || missing+=("command $c")
done
for f in $all_flags; do
  grep -qE -- "^ +([^ ]+, )?$f( |,|\$)" "$work/man-OPTIONS.txt" || missing+=("flag $f")
done
for f in $fields; do
  grep -qE "^ +$f:( |\$)" "$work/man-CONFIGURATION.txt" || missing+=("config field $f")
done
[ ${#missing[@]} -eq 0 ] || fail "the man page has no entry for: ${missing[*]}"

# bash: complete with the installed script as bash would, one COMP_WORDS at
# a time; prints the candidates, one a line.
complete_bash() {
  bash --norc --noprofile -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _s3reconcile
    printf "%s\n" "${COMPREPLY[@]}"' _ "$bash_completion" "$@"
}
got=$(complete_bash s3reconcile "")
for c in $commands; do grep -qx "$c" <<<"$got" || missing+=("bash: command $c"); done
[ "$(complete_bash s3reconcile mig)" = migrate ] || missing+=("bash: mig -> migrate")
for c in $commands; do
  got=$(complete_bash s3reconcile "$c" --)
  for f in $(flags_of "$c"); do
    [ "$f" = --help ] || grep -qx -- "$f" <<<"$got" || missing+=("bash: $c $f")
  done
done
[ "$(complete_bash s3reconcile run --output "" | sort | tr '\n' ' ')" = "json text " ] ||
  missing+=("bash: --output values")
# zsh: the script parses, and names every command and flag.
if command -v zsh >/dev/null; then
  zsh -n "$zsh_completion" || missing+=("zsh: does not parse")
else
  echo "deb_check: zsh not installed, its completion not parsed" >&2
fi
for word in $commands $all_flags; do
  grep -qE -- "(^|[^a-z-])$word([^a-z-]|\$)" "$zsh_completion" || missing+=("zsh: $word")
done
[ ${#missing[@]} -eq 0 ] || fail "the completions miss: ${missing[*]}"

# In CI, as root: the real install, then removal (never over a package
# someone installed, which the removal would take away).
if [ "${CI:-}" = true ] && [ "$(id -u)" -eq 0 ] && ! dpkg-query -W s3reconcile >/dev/null 2>&1; then
  dpkg -i "$deb" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "dpkg -i failed"; }
  installed=ok
  [ "$(/usr/bin/s3reconcile --version)" = "$version" ] || installed="/usr/bin/s3reconcile --version"
  [ -f /lib/systemd/system/s3reconcile.service ] || installed="no unit in /lib/systemd/system"
  ! ls /etc/systemd/system/*.wants/s3reconcile.service >/dev/null 2>&1 || installed="the unit was enabled"
  dpkg -r s3reconcile >>"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "dpkg -r failed"; }
  [ "$installed" = ok ] || fail "after dpkg -i: $installed"
  echo "dpkg -i: installed, ran, unit not enabled, removed"
fi
echo "deb ok: $(basename "$deb"): files in place, binary ran a pass, man page and completions complete"
