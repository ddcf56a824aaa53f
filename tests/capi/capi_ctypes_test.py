#!/usr/bin/env python3
"""libforge.so from Python through ctypes: hash, scan, since, put/get and the raw action
cache, as a Meson- or SCons-style embedder would. Usage: capi_ctypes_test.py LIBFORGE_SO"""
import ctypes
import hashlib
import os
import sys
import tempfile

FORGE_OK, FORGE_END, FORGE_E_INVALID_ARGUMENT, FORGE_E_INVALID_HANDLE, FORGE_E_NOT_FOUND = 0, 1, 2, 3, 4
FORGE_HASH_SHA256, FORGE_HASH_XXH3 = 1, 2
FORGE_CHANGE_ADDED, FORGE_CHANGE_MODIFIED, FORGE_CHANGE_REMOVED = 0, 1, 2


class FileHash(ctypes.Structure):
    _fields_ = [("status", ctypes.c_int), ("size", ctypes.c_uint64),
                ("sha256", ctypes.c_char * 65), ("xxh3", ctypes.c_char * 33)]


class Change(ctypes.Structure):
    _fields_ = [("path", ctypes.c_char_p), ("kind", ctypes.c_int), ("type", ctypes.c_int),
                ("xxh3", ctypes.c_char * 33), ("sha256", ctypes.c_char * 65)]


class ChangesInfo(ctypes.Structure):
    _fields_ = [("cursor", ctypes.c_char_p), ("fresh_instance", ctypes.c_int),
                ("count", ctypes.c_size_t), ("entries", ctypes.c_size_t),
                ("hashed", ctypes.c_size_t), ("errors", ctypes.c_size_t)]


class Digest(ctypes.Structure):
    _fields_ = [("sha256", ctypes.c_char * 65), ("size", ctypes.c_uint64)]


def main():
    lib = ctypes.CDLL(sys.argv[1])
    lib.forge_version.restype = ctypes.c_char_p
    lib.forge_last_error.restype = ctypes.c_char_p
    lib.forge_store_error.restype = ctypes.c_char_p
    vp = ctypes.c_void_p

    def ok(status, what):
        if status != FORGE_OK:
            raise AssertionError(f"{what}: status {status}: {lib.forge_last_error().decode()}")

    print("libforge", lib.forge_version().decode())
    with tempfile.TemporaryDirectory() as tmp:
        root = os.path.join(tmp, "tree")
        os.mkdir(root)
        with open(os.path.join(root, "a.txt"), "wb") as f:
            f.write(b"hello from python")

        # Batch hash: SHA-256 must agree with hashlib; a missing file fails only its slot.
        io = vp()
        ok(lib.forge_io_open(None, ctypes.byref(io)), "forge_io_open")
        paths = (ctypes.c_char_p * 2)(os.path.join(root, "a.txt").encode(),
                                      os.path.join(root, "missing").encode())
        results = (FileHash * 2)()
        status = lib.forge_hash_files(io, paths, 2, FORGE_HASH_SHA256 | FORGE_HASH_XXH3, results)
        assert status == FORGE_E_NOT_FOUND, status
        assert results[0].status == FORGE_OK
        assert results[0].sha256.decode() == hashlib.sha256(b"hello from python").hexdigest()
        assert len(results[0].xxh3) == 32 and results[1].status == FORGE_E_NOT_FOUND
        ok(lib.forge_io_close(ctypes.byref(io)), "forge_io_close")
        assert io.value is None

        # Scan, change the tree, scan again, then since(first cursor).
        index = vp()
        ok(lib.forge_index_open(root.encode(), os.path.join(tmp, "index").encode(),
                                ctypes.byref(index)), "forge_index_open")
        changes = vp()
        info = ChangesInfo()
        ok(lib.forge_index_scan(index, 0, ctypes.byref(changes)), "forge_index_scan")
        ok(lib.forge_changes_info_get(changes, ctypes.byref(info)), "forge_changes_info_get")
        assert info.count == 1, info.count
        cursor = info.cursor  # copied to bytes by ctypes
        ok(lib.forge_changes_free(ctypes.byref(changes)), "forge_changes_free")
        os.remove(os.path.join(root, "a.txt"))
        with open(os.path.join(root, "b.txt"), "wb") as f:
            f.write(b"b")
        ok(lib.forge_index_scan(index, 0, ctypes.byref(changes)), "second scan")
        ok(lib.forge_changes_free(ctypes.byref(changes)), "forge_changes_free")
        ok(lib.forge_index_since(index, cursor, ctypes.byref(changes)), "forge_index_since")
        seen = {}
        change = Change()
        while lib.forge_changes_next(changes, ctypes.byref(change)) == FORGE_OK:
            seen[change.path.decode()] = change.kind
        assert seen == {"a.txt": FORGE_CHANGE_REMOVED, "b.txt": FORGE_CHANGE_ADDED}, seen
        ok(lib.forge_changes_free(ctypes.byref(changes)), "forge_changes_free")
        ok(lib.forge_index_close(ctypes.byref(index)), "forge_index_close")

        # Store: put a buffer, get it back; raw action cache round trip; a miss.
        store = vp()
        ok(lib.forge_store_open(os.path.join(tmp, "store").encode(), ctypes.byref(store)),
           "forge_store_open")
        data = b"blob from python" * 100
        digest = Digest()
        ok(lib.forge_store_put_buffer(store, data, len(data), ctypes.byref(digest)), "put")
        assert digest.sha256.decode() == hashlib.sha256(data).hexdigest()
        buffer = ctypes.create_string_buffer(len(data))
        size = ctypes.c_size_t()
        ok(lib.forge_store_get_buffer(store, ctypes.byref(digest), buffer, len(data),
                                      ctypes.byref(size)), "get")
        assert buffer.raw[:size.value] == data
        out = os.path.join(tmp, "out.bin")
        ok(lib.forge_store_get_file(store, ctypes.byref(digest), out.encode()), "get_file")
        with open(out, "rb") as f:
            assert f.read() == data
        value = vp()
        ok(lib.forge_ac_put(store, b"py-key", b"py-value", 8), "forge_ac_put")
        ok(lib.forge_ac_get(store, b"py-key", ctypes.byref(value), ctypes.byref(size)), "ac_get")
        assert ctypes.string_at(value, size.value) == b"py-value"
        lib.forge_free(value)
        assert lib.forge_ac_get(store, b"absent", ctypes.byref(value),
                                ctypes.byref(size)) == FORGE_E_NOT_FOUND
        assert b"absent" in lib.forge_store_error(store)
        ok(lib.forge_store_close(ctypes.byref(store)), "forge_store_close")
        assert lib.forge_store_put_buffer(store, data, len(data),
                                          ctypes.byref(digest)) == FORGE_E_INVALID_HANDLE
    print("ctypes: hash, scan, since, put/get and action cache all passed")


if __name__ == "__main__":
    main()
