"""AwsNetwork: a VPC with public and private subnets in two zones, or the subnets of an existing VPC."""

from __future__ import annotations

import ipaddress

import pulumi
import pulumi_aws as aws

from mlops_scaffold.spec.platform import AwsSettings

ZONES = ("a", "b")


def subnet_cidrs(vpc_cidr: str) -> tuple[list[str], list[str]]:
    """Two public and two private subnets: the first four /20s (or /prefix+4) of the VPC block."""
    network = ipaddress.ip_network(vpc_cidr, strict=False)
    blocks = [str(b) for b in network.subnets(new_prefix=min(network.prefixlen + 4, 28))][:4]
    return blocks[:2], blocks[2:]


class AwsNetwork(pulumi.ComponentResource):
    vpc_id: pulumi.Output[str]
    private_subnet_ids: pulumi.Output[list[str]]
    cidr: str

    def __init__(self, name: str, settings: AwsSettings, cluster_name: str, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops-scaffold:aws:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.cidr = settings.vpc_cidr
        if settings.vpc_id is not None:
            self.vpc_id = pulumi.Output.from_input(settings.vpc_id)
            private = aws.ec2.get_subnets_output(
                filters=[
                    {"name": "vpc-id", "values": [settings.vpc_id]},
                    {"name": "tag:kubernetes.io/role/internal-elb", "values": ["1"]},
                ],
                opts=pulumi.InvokeOptions(parent=self),
            )
            self.private_subnet_ids = private.ids
            self.register_outputs({"vpcId": self.vpc_id})
            return
        public_cidrs, private_cidrs = subnet_cidrs(settings.vpc_cidr)
        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=settings.vpc_cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={"Name": cluster_name},
            opts=child,
        )
        gateway = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, opts=child)
        public_routes = aws.ec2.RouteTable(
            f"{name}-public",
            vpc_id=vpc.id,
            routes=[{"cidr_block": "0.0.0.0/0", "gateway_id": gateway.id}],
            opts=child,
        )
        public = self._subnets(name, "public", vpc.id, public_cidrs, public_routes.id, settings, cluster_name)
        nat_ip = aws.ec2.Eip(f"{name}-nat", domain="vpc", opts=child)
        nat = aws.ec2.NatGateway(f"{name}-nat", subnet_id=public[0].id, allocation_id=nat_ip.id, opts=child)
        private_routes = aws.ec2.RouteTable(
            f"{name}-private",
            vpc_id=vpc.id,
            routes=[{"cidr_block": "0.0.0.0/0", "nat_gateway_id": nat.id}],
            opts=child,
        )
        private_subnets = self._subnets(
            name, "private", vpc.id, private_cidrs, private_routes.id, settings, cluster_name
        )
        self.vpc_id = vpc.id
        self.private_subnet_ids = pulumi.Output.all(*[s.id for s in private_subnets])
        self.register_outputs({"vpcId": self.vpc_id})

    def _subnets(
        self,
        name: str,
        kind: str,
        vpc_id: pulumi.Input[str],
        cidrs: list[str],
        route_table_id: pulumi.Input[str],
        settings: AwsSettings,
        cluster_name: str,
    ) -> list[aws.ec2.Subnet]:
        """One subnet per zone, routed through `route_table_id`, tagged for public or internal load balancers."""
        role = "kubernetes.io/role/elb" if kind == "public" else "kubernetes.io/role/internal-elb"
        subnets = []
        for zone, cidr in zip(ZONES, cidrs, strict=True):
            subnet = aws.ec2.Subnet(
                f"{name}-{kind}-{zone}",
                vpc_id=vpc_id,
                cidr_block=cidr,
                availability_zone=f"{settings.region}{zone}",
                map_public_ip_on_launch=False,
                tags={"Name": f"{cluster_name}-{kind}-{zone}", role: "1"},
                opts=pulumi.ResourceOptions(parent=self),
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-{kind}-{zone}",
                subnet_id=subnet.id,
                route_table_id=route_table_id,
                opts=pulumi.ResourceOptions(parent=self),
            )
            subnets.append(subnet)
        return subnets
