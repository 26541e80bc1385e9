# bash completion for s3reconcile: subcommands, each one's flags, and the
# values of the flags that take a fixed set. Plain compgen only, so it works
# with or without the bash-completion package.
_s3reconcile() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
  local commands="run diff check serve migrate status survey undo version"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "$commands --help --version" -- "$cur"))
    return
  fi
  case $prev in
    --config|-c|--changes)
      COMPREPLY=($(compgen -f -- "$cur"))
      compopt -o filenames 2>/dev/null
      return ;;
    --output|--log-format)
      COMPREPLY=($(compgen -W "text json" -- "$cur"))
      return ;;
    --log-level)
      COMPREPLY=($(compgen -W "trace debug info warn error off" -- "$cur"))
      return ;;
    --backend|--bucket|--prefix|--parallelism|--max-removals|--max-removal-ratio|--limit|--progress-interval|\
    --abort-uploads-older-than)
      COMPREPLY=()   # a name or a number: nothing to offer
      return ;;
  esac
  local pass="--config --backend --bucket --prefix --log-level --log-format --allow-empty-listing
              --max-removals --max-removal-ratio --parallelism --changes --progress-interval --help"
  local flags
  case ${COMP_WORDS[1]} in
    run) flags="$pass --output --dry-run --join" ;;
    diff) flags="$pass --exit-code" ;;
    check) flags="$pass --output --explain-credentials" ;;
    serve) flags="--config --log-level --log-format --progress-interval --help" ;;
    migrate) flags="--config --help" ;;
    status) flags="--config --output --limit --help" ;;
    survey) flags="--config --backend --bucket --output --abort-uploads-older-than --dry-run --help" ;;
    undo) flags="--config --changes --dry-run --help" ;;
    *) flags="--help" ;;
  esac
  COMPREPLY=($(compgen -W "$flags" -- "$cur"))
}
complete -F _s3reconcile s3reconcile
