"""Signature lookups read each source repository's tag list once: absent tags cost no request, else a HEAD each."""

import hashlib
import json
import threading

from skomirror.records import ImageRecord, Survey
from skomirror.registry.registries_conf import Endpoint, RegistryEntry
from skomirror.registry.tags import TAG_PAGE
from skomirror.signatures import SignatureLookups, signature_tag
from skomirror.skopeo.runner import SkopeoRunner
from tests.unit.conftest import planned
from tests.unit.test_registry_client import RecordingHandler, client, serve

SIGNATURE = b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}'
DIGESTS = ["sha256:" + f"{index:x}" * 64 for index in range(1, 7)]


def source_registry(tags, status=200, link=None, seen=None, delay=None, after=None):
    """/v2/apps/x answering its tag list as told (a `delay` Event holds it back) and HEADs of `tags`;
    `after`: what it answers when asked for the tags after a `last` (None: it ignores `last`)."""

    class Handler(RecordingHandler):
        def answer(self):
            if "/tags/list" in self.path:
                if delay is not None:
                    delay.wait(5)
                listed = after if after is not None and "&last=" in self.path else tags
                return self.reply(status, json.dumps({"name": "apps/x", "tags": listed}).encode(),
                                  [("Link", link)] if link else [])
            tag = self.path.rsplit("/", 1)[-1]
            if tag in tags:
                return self.reply(200, SIGNATURE,
                                  [("Docker-Content-Digest", "sha256:" + hashlib.sha256(SIGNATURE).hexdigest())])
            self.reply(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}')

    Handler.seen = seen
    return serve(Handler)


def records(host, tmp_path, count):
    made = []
    for index in range(count):
        image = planned(f"{host}/apps/x:{index}", "dst.io/mirror")
        made.append(ImageRecord(image, tmp_path / f"log{index}", survey=Survey(source_digest=DIGESTS[index]),
                                digest=DIGESTS[index]))
    return made


def look_up(server, tmp_path, count, entries=()):
    host = f"127.0.0.1:{server.server_address[1]}"
    lookups = SignatureLookups(SkopeoRunner(None, None, None, None, client(entries=entries)))  # no skopeo to call
    surveyed = records(host, tmp_path, count)
    threads = [threading.Thread(target=lookups, args=(record,)) for record in surveyed]
    for thread in threads:  # as the survey's workers end, all at once
        thread.start()
    for thread in threads:
        thread.join()
    return [image.signs for image in lookups.collect(surveyed)]


def heads(seen):
    return [request for request in seen if request.startswith("HEAD")]


def test_a_complete_tag_list_answers_the_unsigned_with_no_request_and_a_present_signature_is_headed(tmp_path):
    seen, delay = [], threading.Event()
    tags = ["0", "1", "2", "3", "4", signature_tag(DIGESTS[2])]
    server = source_registry(tags, seen=seen, delay=delay)
    threading.Timer(0.2, delay.set).start()  # the other lookups wait for the first one's list meanwhile
    assert look_up(server, tmp_path, 5) == [DIGESTS[2]]
    assert [request for request in seen if "tags/list" in request] == [f"GET /v2/apps/x/tags/list?n={TAG_PAGE}"]
    assert heads(seen) == [f"HEAD /v2/apps/x/manifests/{signature_tag(DIGESTS[2])}"]
    logs = "".join(path.read_text() for path in tmp_path.glob("log*"))
    assert "tag list of 127.0.0.1" in logs and logs.count("not in the tag list, unsigned") == 4


def test_a_link_to_a_next_page_means_a_head_per_image(tmp_path):
    seen = []
    server = source_registry([signature_tag(DIGESTS[1])], link='</v2/apps/x/tags/list?n=1&last=a>; rel="next"',
                             seen=seen)
    assert look_up(server, tmp_path, 4) == [DIGESTS[1]]
    assert len(heads(seen)) == 4
    assert "more than one page; each signature tag in it is asked for" in \
        "".join(path.read_text() for path in tmp_path.glob("log*"))


def test_a_full_page_without_a_link_is_not_trusted_whole(tmp_path):
    seen = []
    server = source_registry([f"t{index}" for index in range(TAG_PAGE)], seen=seen)
    assert look_up(server, tmp_path, 3) == []
    assert len(heads(seen)) == 3


def test_a_page_cut_at_a_common_size_without_a_link_is_found_out_by_asking_for_the_tags_after_it(tmp_path):
    """A registry that cuts a page at 100 and sends no Link must not make the 101st tag's signature unsigned."""
    seen = []
    page = [f"t{index:03d}" for index in range(100)]
    server = source_registry(page, seen=seen, after=[signature_tag(DIGESTS[0])])
    assert look_up(server, tmp_path, 3) == []  # the stub's HEADs know only the first page
    assert [request for request in seen if "last=t099" in request] and len(heads(seen)) == 3


def test_a_page_sized_list_with_nothing_after_it_or_a_registry_ignoring_last_is_whole(tmp_path):
    page = [f"t{index:03d}" for index in range(99)] + [signature_tag(DIGESTS[1])]
    for after in ([], None):  # a paging registry with nothing more; distribution 2.8, which ignores `last`
        seen = []
        server = source_registry(page, seen=seen, after=after)
        assert look_up(server, tmp_path, 3) == [DIGESTS[1]]
        assert heads(seen) == [f"HEAD /v2/apps/x/manifests/{signature_tag(DIGESTS[1])}"], seen


def test_a_refused_or_unknown_tag_list_means_a_head_per_image(tmp_path):
    for status in (403, 404):
        seen = []
        server = source_registry([signature_tag(DIGESTS[0])], status=status, seen=seen)
        (tmp_path / str(status)).mkdir()
        assert look_up(server, tmp_path / str(status), 3) == [DIGESTS[0]]
        assert len(heads(seen)) == 3 and len([request for request in seen if "tags/list" in request]) == 1
        assert f"HTTP {status} for its tag list; each signature tag in it is asked for" in \
            "".join(path.read_text() for path in (tmp_path / str(status)).glob("log*"))


def test_mirrors_in_registries_conf_mean_no_tag_list(tmp_path):
    seen = []
    server = source_registry([], seen=seen)
    host = f"127.0.0.1:{server.server_address[1]}"
    mirrored = RegistryEntry(host, Endpoint(host, True), (Endpoint(host, True),))
    assert look_up(server, tmp_path, 2, entries=[mirrored]) == []
    assert not [request for request in seen if "tags/list" in request]
