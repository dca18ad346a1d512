"""What the two workflows into a registry share: DEST as target, cluster resources as their result."""

from typing import List, Optional

from skomirror.cluster_resources import write_for_run
from skomirror.config.model import ImageSetConfiguration
from skomirror.endpoints.contract import Endpoint
from skomirror.endpoints.registry import RegistryEndpoint
from skomirror.records import ImageRecord
from skomirror.workflows.base import Say, Workflow


class IntoRegistry(Workflow):
    writes_cluster_resources = True

    @property
    def target(self) -> Endpoint:
        return RegistryEndpoint(self.destination, self.options.max_nested_paths)

    def deliver(self, records: List[ImageRecord], config: Optional[ImageSetConfiguration], say: Say,
                warn: Say) -> None:
        write_for_run(records, config, self.release_store.signatures, self.workspace.cluster_resources,
                      self.options.max_nested_paths > 0, warn, say)
