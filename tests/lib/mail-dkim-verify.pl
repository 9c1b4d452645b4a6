#!/usr/bin/perl
# mail-dkim-verify.pl - verify the message on standard input with Perl's
# Mail::DKIM (an independent verifier), keys fetched from the DNS server
# given as IP@PORT. Prints one line per signature: "RESULT d=DOMAIN a=ALG".
use strict;
use warnings;
use Mail::DKIM::Verifier;
use Net::DNS;

my ($ip, $port) = split /@/, ($ARGV[0] // "127.0.0.1\@53");
my $res = Net::DNS::Resolver->new(nameservers => [$ip], port => $port, recurse => 1,
                                  udp_timeout => 5, tcp_timeout => 5);
Mail::DKIM::DNS::resolver($res);
my $v = Mail::DKIM::Verifier->new();
binmode STDIN;
while (<STDIN>) {
	s/\r?\n\z/\r\n/;
	$v->PRINT($_);
}
$v->CLOSE();
foreach my $s ($v->signatures) {
	printf "%s d=%s a=%s (%s)\n", $s->result, $s->domain, $s->algorithm, $s->result_detail // "";
}
