# shellcheck shell=bash
# LUKS image fixtures made with the cryptsetup CLI (formatting a file
# needs no device-mapper). PBKDF2 with 1000 iterations keeps them fast.

# make_luks IMG TYPE KEYFILE: a 20 MiB luks1 or luks2 image keyed by KEYFILE.
make_luks() {
	truncate -s 20M "$1"
	cryptsetup luksFormat -q --type "$2" --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
		--key-file "$3" "$1" >/dev/null
}

# add_keyslot IMG OLDKEYFILE NEWKEYFILE [SLOT]
add_keyslot() {
	cryptsetup luksAddKey -q --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
		--key-file "$2" ${4:+--key-slot "$4"} "$1" "$3" >/dev/null
}
