"""GcpNetwork: a VPC with one regional subnet (with pod and service ranges) and private services access."""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from mlops_scaffold.spec.platform import GcpSettings

NODES, PODS, SERVICES = "10.0.0.0/20", "10.64.0.0/14", "10.68.0.0/20"


class GcpNetwork(pulumi.ComponentResource):
    network: pulumi.Output[str]
    subnetwork: pulumi.Output[str]
    peering: pulumi.Resource | None

    def __init__(self, name: str, settings: GcpSettings, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops-scaffold:gcp:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        if settings.network is not None:
            network_id = pulumi.Output.from_input(f"projects/{settings.project}/global/networks/{settings.network}")
        else:
            network_id = gcp.compute.Network(
                name, project=settings.project, auto_create_subnetworks=False, opts=child
            ).id
        subnet = gcp.compute.Subnetwork(
            name,
            project=settings.project,
            region=settings.region,
            network=network_id,
            ip_cidr_range=NODES,
            private_ip_google_access=True,
            secondary_ip_ranges=[
                {"range_name": "pods", "ip_cidr_range": PODS},
                {"range_name": "services", "ip_cidr_range": SERVICES},
            ],
            opts=child,
        )
        # Cloud SQL gets a private address in this range, peered into the VPC
        services_range = gcp.compute.GlobalAddress(
            f"{name}-services",
            project=settings.project,
            network=network_id,
            purpose="VPC_PEERING",
            address_type="INTERNAL",
            prefix_length=16,
            opts=child,
        )
        self.peering = gcp.servicenetworking.Connection(
            name,
            network=network_id,
            service="servicenetworking.googleapis.com",
            reserved_peering_ranges=[services_range.name],
            opts=child,
        )
        self.network, self.subnetwork = network_id, subnet.id
        self.register_outputs({"network": self.network})
