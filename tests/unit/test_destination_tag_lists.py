"""The survey lists a destination repository receiving several images once: absent tags cost no HEAD."""

import json
import threading

from skomirror.endpoints.registry import RegistryEndpoint
from skomirror.naming import parse_destination
from skomirror.records import ImageFacts
from skomirror.registry.tags import LISTED_FROM, TAG_PAGE, DestinationTags
from skomirror.skopeo.runner import SkopeoRunner
from skomirror.survey import Surveyor
from tests.unit.conftest import planned
from tests.unit.test_registry_client import RecordingHandler, client, serve

PRESENT = "sha256:" + "a" * 64
UNKNOWN = b'{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}'


def destination_registry(seen, tags=None, unknown_body=UNKNOWN):
    """mirror/apps/x: `tags` present (each under PRESENT), or, with tags None, a repository not created yet."""

    class Handler(RecordingHandler):
        def answer(self):
            if "/tags/list" in self.path:
                if tags is None:
                    return self.reply(404, unknown_body)
                return self.reply(200, json.dumps({"name": "mirror/apps/x", "tags": tags}).encode())
            if tags is not None and self.path.rsplit("/", 1)[-1] in tags:
                return self.reply(200, b"{}", [("Docker-Content-Digest", PRESENT)])
            self.reply(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}')

    Handler.seen = seen
    return serve(Handler)


def survey(server, tmp_path, count, listed=True):
    """`count` images bound for mirror/apps/x, surveyed at once; the destination digests found, in order."""
    host = f"127.0.0.1:{server.server_address[1]}"
    runner = SkopeoRunner(None, None, None, None, client())  # no skopeo: every answer comes over HTTP
    images = [planned(f"src.example/apps/x:{index}", f"{host}/mirror") for index in range(count)]
    known = {image.destination_spec: ImageFacts("sha256:" + "b" * 64, {}, {}) for image in images}  # no source read
    tags = None
    if listed:
        tags = DestinationTags(runner.client)
        tags.expect(image.destination_repository for image in images)
    surveyor = Surveyor(runner, RegistryEndpoint(parse_destination(f"docker://{host}/mirror")), known=known,
                        destination_tags=tags)
    found = [None] * count

    def one(index):
        found[index] = surveyor.survey(images[index], tmp_path / f"log{index}").destination_digest

    threads = [threading.Thread(target=one, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return found


def heads(seen):
    return [request for request in seen if request.startswith("HEAD")]


def logs(tmp_path):
    return "".join(path.read_text() for path in sorted(tmp_path.glob("log*")))


def test_a_repository_not_created_yet_is_listed_once_and_no_image_of_it_is_headed(tmp_path):
    seen = []
    assert survey(destination_registry(seen), tmp_path, 6) == [None] * 6
    assert seen == [f"GET /v2/mirror/apps/x/tags/list?n={TAG_PAGE}"]
    assert logs(tmp_path).count("not in its repository's tag list, absent") == 6
    assert "0 tags; a destination tag not among them is absent, with no request" in logs(tmp_path)


def test_a_listed_tag_is_still_headed_for_its_digest_and_an_unlisted_one_is_not(tmp_path):
    seen = []
    assert survey(destination_registry(seen, tags=["1", "3"]), tmp_path, 5) == [None, PRESENT, None, PRESENT, None]
    assert sorted(heads(seen)) == ["HEAD /v2/mirror/apps/x/manifests/1", "HEAD /v2/mirror/apps/x/manifests/3"]
    assert len([request for request in seen if "tags/list" in request]) == 1


def test_a_repository_receiving_few_images_is_not_listed(tmp_path):
    seen = []
    assert survey(destination_registry(seen), tmp_path, LISTED_FROM - 1) == [None] * (LISTED_FROM - 1)
    assert len(heads(seen)) == LISTED_FROM - 1 and not [request for request in seen if "tags/list" in request]


def test_a_404_that_is_not_name_unknown_means_a_head_per_image(tmp_path):
    """A 404 page from a proxy says nothing about the repository: each image is asked for, as without a list."""
    seen = []
    assert survey(destination_registry(seen, unknown_body=b"<html>not here</html>"), tmp_path, 5) == [None] * 5
    assert len(heads(seen)) == 5
    assert "HTTP 404 for its tag list; each destination tag in it is asked for" in logs(tmp_path)


def test_without_lists_every_image_is_headed(tmp_path):
    seen = []
    assert survey(destination_registry(seen, tags=["1"]), tmp_path, 5, listed=False) == \
        [None, PRESENT, None, None, None]
    assert len(heads(seen)) == 5 and not [request for request in seen if "tags/list" in request]


def test_a_destination_by_digest_is_never_answered_from_a_list():
    class NoList:
        def tag_list(self, *args, **kwargs):
            raise AssertionError("a digest is no tag: nothing to list")

    tags = DestinationTags(NoList())
    by_digest = "docker://dst.example/mirror/apps/x@" + PRESENT
    tags.expect(["dst.example/mirror/apps/x"] * (LISTED_FROM + 1))
    assert tags.lacks("dst.example/mirror/apps/x", by_digest, lambda line: None) is False
