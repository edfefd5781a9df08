# bash completion for ransomeye-tuner(8).
# Installed as /usr/share/bash-completion/completions/ransomeye-tuner.

_ransomeye_tuner() {
	local cur prev words cword
	if declare -F _init_completion >/dev/null 2>&1; then
		_init_completion || return
	else
		COMPREPLY=()
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD - 1]}
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
	fi

	local commands="activate status recover metrics plan check-config place uninstall fail-closed gate version help"
	local global_opts="--root --help --version"

	# The subcommand is the first word after the program that is neither an
	# option nor the directory of --root DIR.
	local i cmd=""
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		--root | -root) ((i++)) ;;
		-*) ;;
		*)
			cmd=${words[i]}
			break
			;;
		esac
	done

	if [[ -z $cmd ]]; then
		# --root takes a directory (the root of the host tree).
		if [[ $prev == --root || $prev == -root ]]; then
			COMPREPLY=($(compgen -d -- "$cur"))
			return
		fi
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$global_opts" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$commands" -- "$cur"))
		fi
		return
	fi

	local opts="--help"
	case $cmd in
	status) opts="--json --quiet --no-metrics --write-metrics --help" ;;
	fail-closed)
		# --reason takes free text: offer nothing for it.
		if [[ $prev == --reason ]]; then
			COMPREPLY=()
			return
		fi
		opts="--reason --if-failed --help"
		;;
	plan) opts="--json --help" ;;
	check-config)
		# FILE... after the options: the configuration files to check.
		if [[ $cur != -* ]]; then
			COMPREPLY=($(compgen -f -- "$cur"))
			return
		fi
		opts="--strict --quiet --help"
		;;
	place) opts="--undo --help" ;;
	activate | recover | metrics | uninstall | gate | version) opts="--help" ;;
	help)
		COMPREPLY=($(compgen -W "$commands" -- "$cur"))
		return
		;;
	*) return ;;
	esac
	COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}
complete -F _ransomeye_tuner ransomeye-tuner
