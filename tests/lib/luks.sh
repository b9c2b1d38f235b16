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

# volume_key_pin IMG KEYFILE NAME: systemd's fixate-volume-key= value for
# mapping NAME, computed without coco-unlock's code: the volume key from
# cryptsetup luksDump, HMAC-SHA256 from openssl, the message as systemd's
# cryptsetup_get_volume_key_id() forms it ("cryptsetup:NAME:UUID").
volume_key_pin() {
	local dir hex
	# cryptsetup writes the key only to a file that does not exist yet.
	dir=$(mktemp -d "${TMPDIR:-/tmp}/coco-vk.XXXXXX") || return 1
	cryptsetup luksDump -q --dump-volume-key --volume-key-file "$dir/vk" --key-file "$2" "$1" >/dev/null ||
		{ rm -rf "$dir"; return 1; }
	hex=$(od -An -v -tx1 "$dir/vk" | tr -d ' \n')
	rm -rf "$dir"
	printf 'cryptsetup:%s:%s' "$3" "$(cryptsetup luksUUID "$1")" |
		openssl dgst -sha256 -mac HMAC -macopt "hexkey:$hex" -r | cut -d' ' -f1
}
