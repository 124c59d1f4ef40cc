/* tcp_flow PORT SECONDS: a TCP sender and receiver on 127.0.0.1:PORT that
 * keep data in flight for SECONDS, so taking the interface down makes the
 * kernel retransmit (tests of the TCP tracer run it in a private network
 * namespace).  Prints the local port of the sender and the bytes received. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int port, seconds;
static volatile int done;
static long long received;

static void *receiver(void *arg)
{
	int fd = *(int *)arg;
	char buf[65536];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		received += n;
	return NULL;
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t len = sizeof(addr);
	int lfd, cfd, sfd, one = 1;
	char chunk[16384];
	pthread_t th;
	time_t end;

	if (argc != 3)
		return 2;
	port = atoi(argv[1]);
	seconds = atoi(argv[2]);
	addr.sin_port = htons((unsigned short)port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) || listen(lfd, 1)) {
		perror("listen");
		return 1;
	}
	cfd = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(cfd, (struct sockaddr *)&addr, sizeof(addr))) {
		perror("connect");
		return 1;
	}
	sfd = accept(lfd, NULL, NULL);
	getsockname(cfd, (struct sockaddr *)&addr, &len);
	printf("%d\n", ntohs(addr.sin_port));
	fflush(stdout);
	pthread_create(&th, NULL, receiver, &sfd);
	memset(chunk, 'x', sizeof(chunk));
	end = time(NULL) + seconds;
	while (time(NULL) < end) {
		if (write(cfd, chunk, sizeof(chunk)) < 0)
			break;
		usleep(1000);
	}
	shutdown(cfd, SHUT_WR);
	pthread_join(th, NULL);
	printf("%lld\n", received);
	return 0;
}
